// SPDX-License-Identifier: GPL-2.0
/*
 * The master's counters, one table for both ethtool -S and sysfs, so the
 * two always show the same names and values (README lists each one).
 */
#include <linux/jiffies.h>
#include <linux/netdevice.h>

#include "vfpath.h"

/*
 * Unsized: with one name too many or too few, this definition conflicts
 * with vfpath.h's [VFPATH_NR_COUNTERS] declaration and the build fails.
 */
const char * const vfpath_counter_names[] = {
	"tx_packets_vf", "tx_bytes_vf", "rx_packets_vf", "rx_bytes_vf",
	"tx_packets_synthetic", "tx_bytes_synthetic",
	"rx_packets_synthetic", "rx_bytes_synthetic",
	"tx_dropped_no_path", "tx_dropped_slave", "rx_looped",
	"rx_other_path_mcast",
	"switches",
	"switches_vf_down", "switches_vf_carrier", "switches_vf_unbind",
	"switches_vf_unregister", "switches_vf_ready", "switches_manual",
	"switches_slave_change",
	"peer_notifications", "ms_since_last_switch",
};

/* Context: any; a consistent read of each per-CPU counter. */
void vfpath_counters_read(struct vfpath_master *vm, u64 *out)
{
	u64 pp[4][VFPATH_PATH_MAX] = {}, txd = 0, looped = 0, other = 0;
	int cpu, p, r, i = 0;

	for_each_possible_cpu(cpu) {
		const struct vfpath_pcpu_stats *st = per_cpu_ptr(vm->stats, cpu);
		u64 v[4][VFPATH_PATH_MAX], d, l, o;
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&st->syncp);
			for (p = 0; p < VFPATH_PATH_MAX; p++) {
				v[0][p] = u64_stats_read(&st->tx_packets[p]);
				v[1][p] = u64_stats_read(&st->tx_bytes[p]);
				v[2][p] = u64_stats_read(&st->rx_packets[p]);
				v[3][p] = u64_stats_read(&st->rx_bytes[p]);
			}
			d = u64_stats_read(&st->tx_dropped);
			l = u64_stats_read(&st->rx_looped);
			o = u64_stats_read(&st->rx_other_path_mcast);
		} while (u64_stats_fetch_retry(&st->syncp, start));
		for (p = 0; p < VFPATH_PATH_MAX; p++)
			for (r = 0; r < 4; r++)
				pp[r][p] += v[r][p];
		txd += d;
		looped += l;
		other += o;
	}
	for (p = 0; p < VFPATH_PATH_MAX; p++)
		for (r = 0; r < 4; r++)
			out[i++] = pp[r][p];
	out[i++] = atomic64_read(&vm->tx_dropped_no_path);
	out[i++] = txd;
	out[i++] = looped;
	out[i++] = other;
	out[i++] = atomic64_read(&vm->switches);
	for (r = 0; r < VFPATH_REASON_MAX; r++)
		out[i++] = atomic64_read(&vm->switch_reason[r]);
	out[i++] = atomic64_read(&vm->notifications);
	out[i++] = jiffies_to_msecs(jiffies - READ_ONCE(vm->last_switch_jiffies));
}
