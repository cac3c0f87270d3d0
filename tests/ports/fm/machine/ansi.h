/* tests/ports/fm/machine/ansi.h - featuremacros.sh only: with __NetBSD__
   defined, GCC's own <stddef.h> takes size_t, ptrdiff_t and wchar_t from this
   NetBSD header's _BSD_*_T_ macros; here they are GCC's own types. */
#pragma GCC system_header
#ifndef FM_MACHINE_ANSI_H
#define FM_MACHINE_ANSI_H
#define _BSD_SIZE_T_ __SIZE_TYPE__
#define _BSD_PTRDIFF_T_ __PTRDIFF_TYPE__
#define _BSD_WCHAR_T_ __WCHAR_TYPE__
#endif
