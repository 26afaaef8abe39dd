/*
 * NAME
 *	glib-sync - ThreadSanitizer annotations for GLib's GMutex (preloaded)
 * SYNOPSIS
 *	HTGATE_WRAPPER="env LD_PRELOAD=BUILDDIR/tests/tsan/glib-sync.so"
 * DESCRIPTION
 *	GLib's GMutex is a futex of GLib's own, not a pthread mutex, and
 *	Debian's libglib is not built with -fsanitize=thread: ThreadSanitizer
 *	sees no happens-before from g_mutex_unlock() to the next
 *	g_mutex_lock() of the same mutex and reports every access to data
 *	handed from one thread to another under a GMutex (the configuration
 *	snapshot of lib/cfg.c, lib/recorder.c) as a data race.  Preloaded
 *	into the daemons of the TSan suite (scripts/test), this library
 *	wraps g_mutex_lock(), g_mutex_trylock(), g_mutex_unlock() and
 *	g_mutex_clear() in TSan's mutex annotations around GLib's own
 *	functions (dlsym(RTLD_NEXT)), so TSan models the lock exactly as it
 *	models a pthread mutex: an access outside the lock is still a race.
 *	The __tsan_* functions are weak: in a process without TSan the
 *	wrappers only call GLib.
 * OWNERSHIP
 *	tests/ (built only with --enable-tsan).  No state besides the
 *	resolved GLib functions (resolved once; a race on that pointer is
 *	benign: every thread stores the same value).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

#pragma weak __tsan_mutex_create
#pragma weak __tsan_mutex_destroy
#pragma weak __tsan_mutex_pre_lock
#pragma weak __tsan_mutex_post_lock
#pragma weak __tsan_mutex_pre_unlock
#pragma weak __tsan_mutex_post_unlock
void	__tsan_mutex_create(void *addr, unsigned flags);
void	__tsan_mutex_destroy(void *addr, unsigned flags);
void	__tsan_mutex_pre_lock(void *addr, unsigned flags);
int	__tsan_mutex_post_lock(void *addr, unsigned flags, int recursion);
int	__tsan_mutex_pre_unlock(void *addr, unsigned flags);
void	__tsan_mutex_post_unlock(void *addr, unsigned flags);

#define TSAN_TRY_LOCK		(1u << 5)	/* tsan_interface.h values */
#define TSAN_TRY_LOCK_FAILED	(1u << 6)

/* real - GLib's own function NAME, looked up once into *slot */
static void *
real(void **slot, const char *name)
{
	if (*slot == NULL)
		*slot = dlsym(RTLD_NEXT, name);
	if (*slot == NULL) {
		fprintf(stderr, "glib-sync: %s not found\n", name);
		abort();
	}
	return (*slot);
}

/* The annotations, where TSan is present. */
static void
pre_lock(GMutex *m, unsigned flags)
{
	if (__tsan_mutex_pre_lock)
		__tsan_mutex_pre_lock(m, flags);
}

static void
post_lock(GMutex *m, unsigned flags)
{
	if (__tsan_mutex_post_lock)
		(void) __tsan_mutex_post_lock(m, flags, 0);
}

typedef void (*mutex_fn) (GMutex *);
typedef gboolean (*trylock_fn) (GMutex *);

/* g_mutex_lock - GLib's lock, annotated */
void
g_mutex_lock(GMutex *m)
{
	static void *f;
	mutex_fn lock = (mutex_fn) real(&f, "g_mutex_lock");

	pre_lock(m, 0);
	lock(m);
	post_lock(m, 0);
}

/* g_mutex_trylock - GLib's trylock, annotated */
gboolean
g_mutex_trylock(GMutex *m)
{
	static void *f;
	trylock_fn trylock = (trylock_fn) real(&f, "g_mutex_trylock");
	gboolean got;

	pre_lock(m, TSAN_TRY_LOCK);
	got = trylock(m);
	post_lock(m, got ? TSAN_TRY_LOCK : TSAN_TRY_LOCK | TSAN_TRY_LOCK_FAILED);
	return (got);
}

/* g_mutex_unlock - GLib's unlock, annotated */
void
g_mutex_unlock(GMutex *m)
{
	static void *f;
	mutex_fn unlock = (mutex_fn) real(&f, "g_mutex_unlock");

	if (__tsan_mutex_pre_unlock)
		(void) __tsan_mutex_pre_unlock(m, 0);
	unlock(m);
	if (__tsan_mutex_post_unlock)
		__tsan_mutex_post_unlock(m, 0);
}

/* g_mutex_clear - GLib's clear; the mutex is gone for TSan too */
void
g_mutex_clear(GMutex *m)
{
	static void *f;
	mutex_fn clear = (mutex_fn) real(&f, "g_mutex_clear");

	if (__tsan_mutex_destroy)
		__tsan_mutex_destroy(m, 0);
	clear(m);
}
