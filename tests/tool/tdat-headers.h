/* SPDX-License-Identifier: MIT */
/*
 * tdat-headers.h: the texts of tracefs' events/header_page and
 * events/header_event of an x86_64 kernel (4 KB pages, 8-byte local_t
 * commit), as a trace.dat stores them: what the tests that build
 * ring-buffer pages by hand (test-tdat-page.c, gen-tdat-path.c) say their
 * pages are.
 */
#ifndef MML_TDAT_HEADERS_H
#define MML_TDAT_HEADERS_H

static const char header_page[] =
	"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
	"\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
	"\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
	"\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n";
static const char header_event[] =
	"# compressed entry header\n"
	"\ttype_len    :    5 bits\n"
	"\ttime_delta  :   27 bits\n"
	"\tarray       :   32 bits\n"
	"\n"
	"\tpadding     : type == 29\n"
	"\ttime_extend : type == 30\n"
	"\ttime_stamp : type == 31\n"
	"\tdata max type_len  == 28\n";

#endif
