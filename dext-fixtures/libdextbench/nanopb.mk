# Finds nanopb (generator, headers, runtime). Included by libdextbench/Makefile and bridge/Makefile.
# Override any of: NANOPB_GEN, NANOPB_DIR (dir holding pb.h), NANOPB_LIB (libprotobuf-nanopb.a),
# NANOPB_SRC (dir holding pb_common.c pb_encode.c pb_decode.c: the runtime is then compiled here
# with PB_BUFFER_ONLY, as a dext does).
#   Debian:   apt-get install nanopb libnanopb-dev   -> nanopb_generator.py, /usr/include/pb.h,
#             /usr/lib/<multiarch>/libprotobuf-nanopb.a
#   Homebrew: brew install nanopb                    -> nanopb_generator, $(brew --prefix)/include[/nanopb],
#             $(brew --prefix)/lib/libprotobuf-nanopb.a

NANOPB_GEN ?= $(firstword $(foreach g,nanopb_generator nanopb_generator.py,$(shell command -v $(g) 2>/dev/null)))
BREW_PREFIX := $(shell command -v brew >/dev/null 2>&1 && brew --prefix 2>/dev/null)
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

NANOPB_DIR ?= $(firstword $(foreach d,$(NANOPB_SRC) /usr/include /usr/local/include $(BREW_PREFIX)/include/nanopb $(BREW_PREFIX)/include,$(if $(wildcard $(d)/pb.h),$(d))))

ifneq ($(NANOPB_SRC),)
NANOPB_RUNTIME_SRC := $(NANOPB_SRC)/pb_common.c $(NANOPB_SRC)/pb_encode.c $(NANOPB_SRC)/pb_decode.c
NANOPB_DEFS := -DPB_BUFFER_ONLY
NANOPB_LIB :=
else
# The packaged library is built with nanopb's default stream layout, so PB_BUFFER_ONLY must not be
# defined when linking it; `make check-buffer-only` proves our sources still build with it.
NANOPB_RUNTIME_SRC :=
NANOPB_DEFS :=
NANOPB_LIB ?= $(firstword $(wildcard /usr/lib/$(MULTIARCH)/libprotobuf-nanopb.a /usr/lib/libprotobuf-nanopb.a /usr/local/lib/libprotobuf-nanopb.a $(BREW_PREFIX)/lib/libprotobuf-nanopb.a))
endif

nanopb-check:
	@test -n "$(NANOPB_GEN)" || { echo "nanopb: generator not found (nanopb_generator / nanopb_generator.py); install nanopb" >&2; exit 2; }
	@test -n "$(NANOPB_DIR)" || { echo "nanopb: pb.h not found; install libnanopb-dev or set NANOPB_DIR" >&2; exit 2; }
	@test -n "$(NANOPB_SRC)$(NANOPB_LIB)" || { echo "nanopb: no runtime (libprotobuf-nanopb.a or NANOPB_SRC)" >&2; exit 2; }
.PHONY: nanopb-check
