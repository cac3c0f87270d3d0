/* tests/ports/fm/sys/_types.h - featuremacros.sh only: with __FreeBSD__
   defined, GCC's own <stddef.h> includes this FreeBSD header (and names
   __rune_t when __BSD_VISIBLE); on glibc it has nothing else to give. */
#pragma GCC system_header
#ifndef FM_SYS__TYPES_H
#define FM_SYS__TYPES_H
typedef int __rune_t;
#endif
