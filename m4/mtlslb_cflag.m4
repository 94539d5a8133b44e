# MTLSLB_CHECK_CFLAG(FLAG, ACTION-IF-OK)
# Runs ACTION-IF-OK when the C compiler accepts FLAG without a warning
# (the test compiles with -Werror, so an unknown -W option fails). Our own
# macro, so configure needs no autoconf-archive.
AC_DEFUN([MTLSLB_CHECK_CFLAG], [
	AS_VAR_PUSHDEF([mtlslb_var], [mtlslb_cv_cflag_$1])
	AC_CACHE_CHECK([whether $CC accepts $1], [mtlslb_var], [
		mtlslb_save_cflags=$CFLAGS
		CFLAGS="$CFLAGS -Werror $1"
		AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
		    [AS_VAR_SET([mtlslb_var], [yes])],
		    [AS_VAR_SET([mtlslb_var], [no])])
		CFLAGS=$mtlslb_save_cflags])
	AS_VAR_IF([mtlslb_var], [yes], [$2])
	AS_VAR_POPDEF([mtlslb_var])
])
