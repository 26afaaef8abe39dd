/*
 * NAME
 *	rate - ENV-RATE: the sliding window of each account, in one place
 * DESCRIPTION
 *	See rate.h.  In memory a window is a ring of the times (monotonic
 *	ms) of the last rate_limit messages; in the record it is rows of
 *	rate_event (record.h, record_rate_take()), keyed by the account's
 *	name, with wall-clock times so that relays agree.
 * OWNERSHIP
 *	rate_windows (account name -> struct rate_ring) is this module's.
 * THREAD SAFETY
 *	rate_lock guards rate_windows.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "rate.h"
#include "recorder.h"

/* A sliding window: the times of the last `limit` messages (a ring). */
struct rate_ring {
	int	limit;
	int	head;
	int	count;
	gint64 *when;			/* monotonic ms */
};

static GMutex rate_lock;
static GHashTable *rate_windows;	/* account name -> struct rate_ring */

/* ring_free - release a window (GDestroyNotify) */
static void
ring_free(gpointer p)
{
	struct rate_ring *r = p;

	g_free(r->when);
	g_free(r);
}

/* ring_get - the window of an account, (re)sized to its limit; locked */
static struct rate_ring *
ring_get(const char *name, int limit)
{
	struct rate_ring *r;

	if (rate_windows == NULL)
		rate_windows = g_hash_table_new_full(g_str_hash, g_str_equal,
						     g_free, ring_free);
	if ((r = g_hash_table_lookup(rate_windows, name)) != NULL
	    && r->limit == limit)
		return (r);
	r = g_new0(struct rate_ring, 1);
	r->limit = limit > 0 ? limit : 1;
	r->when = g_new0(gint64, r->limit);
	g_hash_table_replace(rate_windows, g_strdup(name), r);
	return (r);
}

/* mem_take - one step of a window in memory: 1 over, 0 counted */
static int
mem_take(const char *name, int limit, gint64 window_ms, int count_over)
{
	gint64	now = g_get_monotonic_time() / 1000;
	struct rate_ring *r;
	int	over;

	g_mutex_lock(&rate_lock);
	r = ring_get(name, limit);
	while (r->count > 0 && r->when[r->head] <= now - window_ms) {
		r->head = (r->head + 1) % r->limit;
		r->count--;
	}
	over = r->count >= r->limit;
	if (!over || count_over) {
		if (r->count == r->limit) {	/* the oldest drops out */
			r->when[r->head] = now;
			r->head = (r->head + 1) % r->limit;
		} else {
			r->when[(r->head + r->count) % r->limit] = now;
			r->count++;
		}
	}
	g_mutex_unlock(&rate_lock);
	return (over);
}

/* rate_action - [rules] ENV-RATE, unless the account's "rate" overrides */
enum htg_action
rate_action(const struct htg_cfg *cfg, const struct htg_account *acct)
{
	enum htg_action rule = cfg_rule_action(cfg, RULE_ENV_RATE);

	if (acct == NULL || rule == HTG_ACT_NONE
	    || acct->rate_mode == HTG_RATE_OFF)
		return (HTG_ACT_NONE);
	if (acct->rate_mode == HTG_RATE_DEFER)
		return (HTG_ACT_TEMPFAIL);
	return (rule);
}

/* rate_check - count one HTG message against its account's window */
enum htg_verdict
rate_check(struct htg_msg *msg, char *err, size_t errlen)
{
	const struct htg_cfg *cfg = htg_msg_cfg(msg);
	const struct htg_account *acct = htg_msg_account(msg);
	enum htg_action act = rate_action(cfg, acct);
	char	detail[HTG_DETAIL_MAX];
	int	over, count_over = act == HTG_ACT_WARN;

	if (act == HTG_ACT_NONE)
		return (HTG_CONTINUE);
	if (recorder_enabled(cfg))
		over = recorder_rate_take(cfg, acct->name, acct->rate_limit,
			(long long) acct->rate_window * 1000, count_over, err,
			errlen);
	else
		over = mem_take(acct->name, acct->rate_limit,
				(gint64) acct->rate_window * 1000, count_over);
	if (over < 0)
		return (htg_msg_add_finding(msg, RULE_INTERNAL, HTG_STAGE_RCPT,
			"the rate windows (ENV-RATE) are unavailable"));
	if (over == 0)
		return (HTG_CONTINUE);
	snprintf(detail, sizeof(detail), "account %s: more than %d in %d s",
		 acct->name, acct->rate_limit, acct->rate_window);
	return (htg_msg_add_finding_as(msg, RULE_ENV_RATE, HTG_STAGE_RCPT, act,
				       detail));
}

/* rate_reset - forget the windows in memory */
void
rate_reset(void)
{
	g_mutex_lock(&rate_lock);
	if (rate_windows != NULL)
		g_hash_table_destroy(rate_windows);
	rate_windows = NULL;
	g_mutex_unlock(&rate_lock);
}
