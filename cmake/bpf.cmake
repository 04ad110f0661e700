# bpf.cmake: the BPF back-end's kernel side (bpf/mmaplock.bpf.c) built into
# a libbpf skeleton (mmaplock.skel.h in ${CMAKE_BINARY_DIR}/bpf), when the
# tools are there: clang with the bpf target, bpftool, libbpf (pkg-config)
# and the build machine's kernel BTF (for vmlinux.h; the programs are CO-RE,
# so they load on other kernels too). MMAPLOCK_BPF: AUTO (build when
# possible, else say why and build without), ON (fail without), OFF.
# Sets MMAPLOCK_HAVE_BPF, target mmaplock_bpf_skel and PkgConfig::LIBBPF.
# watch's programs (bpf/watch.bpf.c) are a second object and skeleton
# (watch.skel.h, target mmaplock_watch_skel); both include bpf/common.bpf.h.

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

# One BPF object and its skeleton: bpf/NAME.bpf.c -> NAME.bpf.o -> NAME.skel.h
# (bpftool's skeleton name SKEL), built by target TARGET; ARGN: the headers
# it includes besides ${bpf_shared} and vmlinux.h.
function(mml_bpf_object name skel target)
	set(strip_cmd true)
	if (BPF_STRIP)
		set(strip_cmd ${BPF_STRIP} -g ${name}.bpf.o)	# DWARF off; BTF stays
	endif()
	add_custom_command(OUTPUT ${bpf_out}/${name}.bpf.o
		COMMAND ${BPF_CLANG} -target bpf -D__TARGET_ARCH_${bpf_arch} -g -O2 -Wall -Werror
			-I${bpf_out} -I${CMAKE_SOURCE_DIR}/bpf -I${CMAKE_SOURCE_DIR}/src/common ${bpf_incs}
			-c ${CMAKE_SOURCE_DIR}/bpf/${name}.bpf.c -o ${name}.bpf.o
		COMMAND ${strip_cmd}
		DEPENDS ${CMAKE_SOURCE_DIR}/bpf/${name}.bpf.c ${ARGN} ${bpf_shared} ${bpf_out}/vmlinux.h
		WORKING_DIRECTORY ${bpf_out}
		COMMENT "BPF programs (clang -target bpf ${name}.bpf.c)" VERBATIM)
	add_custom_command(OUTPUT ${bpf_out}/${name}.skel.h
		COMMAND sh -c "${BPFTOOL} gen skeleton ${name}.bpf.o name ${skel} > ${name}.skel.h.tmp && mv ${name}.skel.h.tmp ${name}.skel.h"
		DEPENDS ${bpf_out}/${name}.bpf.o
		WORKING_DIRECTORY ${bpf_out}
		COMMENT "BPF skeleton (bpftool gen skeleton ${name}.bpf.o)" VERBATIM)
	add_custom_target(${target} DEPENDS ${bpf_out}/${name}.skel.h)
endfunction()

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
	# the kernel-side code both objects include (keep in step with their #includes)
	set(bpf_shared ${CMAKE_SOURCE_DIR}/bpf/common.bpf.h)
	mml_bpf_object(mmaplock mmaplock_bpf mmaplock_bpf_skel
		${CMAKE_SOURCE_DIR}/bpf/mmaplock.h ${CMAKE_SOURCE_DIR}/src/common/mml_hist.h)
	# The watch's own programs (bpf/watch.bpf.c, `watch --backend bpf`): a
	# second object and skeleton (watch.skel.h), built the same way.
	mml_bpf_object(watch watch_bpf mmaplock_watch_skel ${CMAKE_SOURCE_DIR}/bpf/mmlwatch.h)
	if (TARGET mmltool)
		add_dependencies(mmltool mmaplock_watch_skel)
	endif()
endif()
