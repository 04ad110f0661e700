# bpf.cmake: the BPF back-end's kernel side (bpf/mmaplock.bpf.c) built into
# a libbpf skeleton (mmaplock.skel.h in ${CMAKE_BINARY_DIR}/bpf), when the
# tools are there: clang with the bpf target, bpftool, libbpf (pkg-config)
# and the build machine's kernel BTF (for vmlinux.h; the programs are CO-RE,
# so they load on other kernels too). MMAPLOCK_BPF: AUTO (build when
# possible, else say why and build without), ON (fail without), OFF.
# Sets MMAPLOCK_HAVE_BPF, target mmaplock_bpf_skel and PkgConfig::LIBBPF.

set(MMAPLOCK_HAVE_BPF OFF)
if (NOT MMAPLOCK_BPF STREQUAL "OFF")
	set(MMAPLOCK_BPF_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH "Kernel BTF that vmlinux.h is generated from")
	find_program(BPF_CLANG NAMES clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14)
	find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /sbin /usr/local/sbin)
	find_program(BPF_STRIP NAMES llvm-strip llvm-strip-19 llvm-strip-18 llvm-strip-17 llvm-strip-16 llvm-strip-15 llvm-strip-14)
	pkg_check_modules(LIBBPF QUIET IMPORTED_TARGET libbpf)
	set(bpf_why "")
	if (NOT BPF_CLANG)
		set(bpf_why "clang missing")
	else()
		execute_process(COMMAND ${BPF_CLANG} -print-targets OUTPUT_VARIABLE bpf_targets ERROR_QUIET)
		if (NOT bpf_targets MATCHES "[ \t]bpf[ \t]")
			set(bpf_why "clang without the bpf target")
		endif()
	endif()
	if (NOT bpf_why AND NOT BPFTOOL)
		set(bpf_why "bpftool missing (Debian: bpftool)")
	endif()
	if (NOT bpf_why AND NOT LIBBPF_FOUND)
		set(bpf_why "libbpf missing (Debian: libbpf-dev)")
	endif()
	if (NOT bpf_why AND NOT EXISTS ${MMAPLOCK_BPF_BTF})
		set(bpf_why "no kernel BTF at ${MMAPLOCK_BPF_BTF}")
	endif()
	if (bpf_why)
		if (MMAPLOCK_BPF STREQUAL "ON")
			message(FATAL_ERROR "MMAPLOCK_BPF=ON but the BPF back-end cannot be built: ${bpf_why}")
		endif()
		message(STATUS "BPF back-end: not built: ${bpf_why}")
	else()
		set(MMAPLOCK_HAVE_BPF ON)
		message(STATUS "BPF back-end: built (${BPF_CLANG}, ${BPFTOOL}, libbpf ${LIBBPF_VERSION})")
	endif()
endif()

if (MMAPLOCK_HAVE_BPF)
	set(bpf_out ${CMAKE_BINARY_DIR}/bpf)
	file(MAKE_DIRECTORY ${bpf_out})
	if (CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|amd64")
		set(bpf_arch x86)
	elseif (CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
		set(bpf_arch arm64)
	else()
		set(bpf_arch ${CMAKE_SYSTEM_PROCESSOR})
	endif()
	set(bpf_incs "")
	foreach(d ${LIBBPF_INCLUDE_DIRS})
		list(APPEND bpf_incs -I${d})
	endforeach()
	add_custom_command(OUTPUT ${bpf_out}/vmlinux.h
		COMMAND sh -c "${BPFTOOL} btf dump file ${MMAPLOCK_BPF_BTF} format c > vmlinux.h.tmp && mv vmlinux.h.tmp vmlinux.h"
		WORKING_DIRECTORY ${bpf_out}
		COMMENT "vmlinux.h from ${MMAPLOCK_BPF_BTF}" VERBATIM)
	set(bpf_strip_cmd true)
	if (BPF_STRIP)
		set(bpf_strip_cmd ${BPF_STRIP} -g mmaplock.bpf.o)	# DWARF off; BTF stays
	endif()
	add_custom_command(OUTPUT ${bpf_out}/mmaplock.bpf.o
		COMMAND ${BPF_CLANG} -target bpf -D__TARGET_ARCH_${bpf_arch} -g -O2 -Wall -Werror
			-I${bpf_out} -I${CMAKE_SOURCE_DIR}/bpf -I${CMAKE_SOURCE_DIR}/src/common ${bpf_incs}
			-c ${CMAKE_SOURCE_DIR}/bpf/mmaplock.bpf.c -o mmaplock.bpf.o
		COMMAND ${bpf_strip_cmd}
		DEPENDS ${CMAKE_SOURCE_DIR}/bpf/mmaplock.bpf.c ${CMAKE_SOURCE_DIR}/bpf/mmaplock.h
			${CMAKE_SOURCE_DIR}/src/common/mml_hist.h ${bpf_out}/vmlinux.h
		WORKING_DIRECTORY ${bpf_out}
		COMMENT "BPF programs (clang -target bpf)" VERBATIM)
	add_custom_command(OUTPUT ${bpf_out}/mmaplock.skel.h
		COMMAND sh -c "${BPFTOOL} gen skeleton mmaplock.bpf.o name mmaplock_bpf > mmaplock.skel.h.tmp && mv mmaplock.skel.h.tmp mmaplock.skel.h"
		DEPENDS ${bpf_out}/mmaplock.bpf.o
		WORKING_DIRECTORY ${bpf_out}
		COMMENT "BPF skeleton (bpftool gen skeleton)" VERBATIM)
	add_custom_target(mmaplock_bpf_skel DEPENDS ${bpf_out}/mmaplock.skel.h)
endif()

# The watch's own programs (bpf/watch.bpf.c, `watch --backend bpf`): a
# second object and skeleton (watch.skel.h), built the same way.
if (MMAPLOCK_HAVE_BPF)
	set(bpfw_strip_cmd true)
	if (BPF_STRIP)
		set(bpfw_strip_cmd ${BPF_STRIP} -g watch.bpf.o)
	endif()
	add_custom_command(OUTPUT ${bpf_out}/watch.bpf.o
		COMMAND ${BPF_CLANG} -target bpf -D__TARGET_ARCH_${bpf_arch} -g -O2 -Wall -Werror
			-I${bpf_out} -I${CMAKE_SOURCE_DIR}/bpf ${bpf_incs}
			-c ${CMAKE_SOURCE_DIR}/bpf/watch.bpf.c -o watch.bpf.o
		COMMAND ${bpfw_strip_cmd}
		DEPENDS ${CMAKE_SOURCE_DIR}/bpf/watch.bpf.c ${CMAKE_SOURCE_DIR}/bpf/mmlwatch.h ${bpf_out}/vmlinux.h
		WORKING_DIRECTORY ${bpf_out}
		COMMENT "BPF watch programs (clang -target bpf)" VERBATIM)
	add_custom_command(OUTPUT ${bpf_out}/watch.skel.h
		COMMAND sh -c "${BPFTOOL} gen skeleton watch.bpf.o name watch_bpf > watch.skel.h.tmp && mv watch.skel.h.tmp watch.skel.h"
		DEPENDS ${bpf_out}/watch.bpf.o
		WORKING_DIRECTORY ${bpf_out}
		COMMENT "BPF watch skeleton (bpftool gen skeleton)" VERBATIM)
	add_custom_target(mmaplock_watch_skel DEPENDS ${bpf_out}/watch.skel.h)
	if (TARGET mmltool)
		add_dependencies(mmltool mmaplock_watch_skel)
	endif()
endif()
