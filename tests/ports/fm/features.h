/* tests/ports/fm/features.h - used only by tests/ports/featuremacros.sh:
   records the feature macros as the program set them (before glibc's
   <features.h> adjusts _POSIX_C_SOURCE), the state another platform's
   <sys/cdefs.h> would see at its first inclusion, for fm/sys/socket.h. */
#pragma GCC system_header
#ifndef FM_FEATURES_CAPTURED
#define FM_FEATURES_CAPTURED
#if defined(_POSIX_C_SOURCE)
#  if _POSIX_C_SOURCE - 0 >= 200809L
#    define FM_PCS 200809L
#  elif _POSIX_C_SOURCE - 0 >= 200112L
#    define FM_PCS 200112L
#  elif _POSIX_C_SOURCE - 0 >= 199506L
#    define FM_PCS 199506L
#  else
#    define FM_PCS 1L
#  endif
#endif
#if defined(_XOPEN_SOURCE)
#  if _XOPEN_SOURCE - 0 >= 700
#    define FM_XOS 700
#  elif _XOPEN_SOURCE - 0 >= 600
#    define FM_XOS 600
#  elif _XOPEN_SOURCE - 0 >= 500
#    define FM_XOS 500
#  else
#    define FM_XOS 1
#  endif
#endif
#if defined(_DARWIN_C_SOURCE) || defined(_NONSTD_SOURCE)
#  define FM_DARWIN_FULL 1
#endif
#if defined(__BSD_VISIBLE)
#  if __BSD_VISIBLE
#    define FM_BSDV 1
#  else
#    define FM_BSDV 0
#  endif
#endif
#endif
#include_next <features.h>
