// SPDX-License-Identifier: GPL-2.0
/*
 * The datapath state machine: which slave transmits.
 *
 * TX goes to the VF iff it is attached, running, has carrier, is not being
 * unbound, the master is in auto mode, and the VF has stayed so for
 * settle_ms; otherwise to the synthetic slave; otherwise nowhere (dropped
 * and counted). Leaving the VF is immediate, returning to it waits for the
 * settle timer, which any flap restarts: so switches are bounded to two per
 * settle_ms, whatever the VF does.
 *
 * The VF's carrier is also checked per frame: linkwatch reports a carrier
 * loss shortly after another link event up to a second late, and the
 * frames of that second would go into a VF without link. Transmit then
 * uses the synthetic slave at once and kicks the switch (carrier_work),
 * so such a loss costs what any other switch costs.
 *
 * Every switch is counted with its reason, logged, reported with an
 * RTM_NEWLINK, and announced: peer_notify gratuitous ARPs and unsolicited
 * NAs on the new path (netdev_notify_peers on the master, which VLAN uppers
 * repeat), so a host bridge learns where the guest now is.
 */
#include <linux/jiffies.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/workqueue.h>

#include "vfpath.h"
#include "vfpath_trace.h"

static const char * const vfpath_reason_names[VFPATH_REASON_MAX] = {
	[VFPATH_REASON_VF_DOWN]		= "vf_down",
	[VFPATH_REASON_VF_CARRIER]	= "vf_carrier",
	[VFPATH_REASON_VF_UNBIND]	= "vf_unbind",
	[VFPATH_REASON_VF_UNREGISTER]	= "vf_unregister",
	[VFPATH_REASON_VF_READY]	= "vf_ready",
	[VFPATH_REASON_MANUAL]		= "manual",
	[VFPATH_REASON_SLAVE_CHANGE]	= "slave_change",
};

/* Context: any. */
const char *vfpath_reason_name(enum vfpath_reason reason)
{
	return reason < VFPATH_REASON_MAX ? vfpath_reason_names[reason] : "?";
}

/* Context: any. */
const char *vfpath_path_name(enum vfpath_path path)
{
	return path == VFPATH_PATH_VF ? "vf" : "synthetic";
}

/* Context: RTNL. The VF could carry traffic now (settled or not). */
static bool vfpath_vf_usable(struct vfpath_master *vm)
{
	struct net_device *vf = rtnl_dereference(vm->slave[VFPATH_PATH_VF]);

	return vf && !vm->vf_going && !vm->vf_closing && netif_running(vf) &&
	       netif_carrier_ok(vf) && vm->mode == VFPATH_MODE_AUTO;
}

/* Context: RTNL. Picks the transmit path and switches if it changed. */
void vfpath_update_path(struct vfpath_master *vm, enum vfpath_reason reason)
{
	struct net_device *old, *new, *syn;

	ASSERT_RTNL();
	if (vm->dead)
		return;
	syn = rtnl_dereference(vm->slave[VFPATH_PATH_SYN]);
	if (vfpath_vf_usable(vm) && vm->vf_settled)
		new = rtnl_dereference(vm->slave[VFPATH_PATH_VF]);
	else if (syn && netif_running(syn))
		new = syn;
	else
		new = NULL;

	/* The master has carrier while some path can carry. */
	if (new && netif_carrier_ok(new))
		netif_carrier_on(vm->dev);
	else
		netif_carrier_off(vm->dev);

	old = rtnl_dereference(vm->tx_dev);
	if (old == new)
		return;
	rcu_assign_pointer(vm->tx_dev, new);

	atomic64_inc(&vm->switches);
	atomic64_inc(&vm->switch_reason[reason]);
	vm->last_reason = reason;
	vm->last_switch_jiffies = jiffies;
	trace_vfpath_switch(vm->dev, old ? old->name : "none",
			    new ? new->name : "none", vfpath_reason_name(reason));
	netdev_info(vm->dev, "tx path %s -> %s (%s)\n",
		    old ? old->name : "none", new ? new->name : "none",
		    vfpath_reason_name(reason));
	/*
	 * The event bonding sends when its active slave changes: rtnetlink
	 * turns it into an RTM_NEWLINK with IFLA_EVENT_BONDING_FAILOVER, and
	 * VLANs and macvlans over the master repeat it for their own.
	 */
	call_netdevice_notifiers(NETDEV_BONDING_FAILOVER, vm->dev);
	if (new && netif_running(vm->dev))
		vfpath_announce(vm);
}

/* Context: RTNL. Jiffies left until the VF, usable now, has settled. */
static unsigned long vfpath_settle_left(struct vfpath_master *vm)
{
	unsigned long due = vm->vf_usable_since +
			    msecs_to_jiffies(READ_ONCE(vm->settle_ms));

	ASSERT_RTNL();
	return time_before(jiffies, due) ? due - jiffies : 0;
}

/*
 * Context: RTNL. Something about the VF changed: if it is not usable, it
 * loses its settled state (and traffic, now); if it has just become
 * usable, its settle period starts now, and the settle work is due at its
 * end (unless already pending).
 */
void vfpath_vf_changed(struct vfpath_master *vm, enum vfpath_reason reason)
{
	ASSERT_RTNL();
	if (vm->dead)
		return;
	if (!vfpath_vf_usable(vm)) {
		vm->vf_usable = false;
		vm->vf_settled = false;
		cancel_delayed_work(&vm->settle_work);
	} else {
		if (!vm->vf_usable) {
			vm->vf_usable = true;
			vm->vf_usable_since = jiffies;
		}
		if (!vm->vf_settled && !delayed_work_pending(&vm->settle_work))
			schedule_delayed_work(&vm->settle_work,
					      vfpath_settle_left(vm));
	}
	vfpath_update_path(vm, reason);
}

/*
 * Context: RTNL. The administrator pins traffic to the synthetic path or
 * lets it go back to auto; an asked-for return to a usable VF does not
 * wait for settling.
 */
void vfpath_set_mode(struct vfpath_master *vm, enum vfpath_mode mode)
{
	ASSERT_RTNL();
	if (vm->mode == mode)
		return;
	vm->mode = mode;
	vm->vf_settled = mode == VFPATH_MODE_AUTO && vfpath_vf_usable(vm);
	vm->vf_usable = vm->vf_settled;
	vm->vf_usable_since = jiffies;
	cancel_delayed_work(&vm->settle_work);
	vfpath_update_path(vm, VFPATH_REASON_MANUAL);
}

/*
 * Context: process (workqueue); takes RTNL. The VF settles if it has been
 * usable for settle_ms without a break. The time is judged here, not by
 * the work having run: while this work waited for RTNL, the VF may have
 * flapped and come back, and its new period has only just begun (the work
 * that period scheduled, or this one again, ends it).
 */
static void vfpath_settle_work(struct work_struct *work)
{
	struct vfpath_master *vm = container_of(to_delayed_work(work),
						struct vfpath_master,
						settle_work);
	unsigned long left;

	rtnl_lock();
	if (!vm->dead && vm->vf_usable && vfpath_vf_usable(vm)) {
		left = vfpath_settle_left(vm);
		if (left) {
			schedule_delayed_work(&vm->settle_work, left);
		} else if (!vm->vf_settled) {
			vm->vf_settled = true;
			vfpath_update_path(vm, VFPATH_REASON_VF_READY);
		}
	}
	rtnl_unlock();
}

/*
 * Context: RCU-bh (ndo_start_xmit). @slave, chosen by tx_dev, has no
 * carrier: if it is the VF, the switch is kicked and the synthetic slave
 * carries this frame if it can. Returns the slave to use.
 */
struct net_device *vfpath_xmit_no_carrier(struct vfpath_master *vm,
					  struct net_device *slave)
{
	struct net_device *syn;

	if (slave != rcu_access_pointer(vm->slave[VFPATH_PATH_VF]))
		return slave;
	schedule_work(&vm->carrier_work);	/* once, if already queued */
	syn = rcu_dereference_bh(vm->slave[VFPATH_PATH_SYN]);
	if (syn && netif_running(syn) && netif_carrier_ok(syn))
		return syn;
	return slave;
}

/* Context: process (workqueue); takes RTNL. */
static void vfpath_carrier_work(struct work_struct *work)
{
	struct vfpath_master *vm = container_of(work, struct vfpath_master,
						carrier_work);

	rtnl_lock();
	if (!vm->dead)
		vfpath_vf_changed(vm, VFPATH_REASON_VF_CARRIER);
	rtnl_unlock();
}

/* Context: RTNL. Sends one announcement on the current path. */
static void vfpath_notify_once(struct vfpath_master *vm)
{
	ASSERT_RTNL();
	if (!rtnl_dereference(vm->tx_dev) || !netif_running(vm->dev))
		return;
	__netdev_notify_peers(vm->dev);
	atomic64_inc(&vm->notifications);
}

/*
 * Context: RTNL. Announces the master on its current path: the first
 * announcement now, before the caller returns (so a VF's unbind is not
 * finished before the host knows), the others from the notify work.
 */
void vfpath_announce(struct vfpath_master *vm)
{
	ASSERT_RTNL();
	if (vm->dead || !vm->peer_notify)
		return;
	vfpath_notify_once(vm);
	vm->notify_left = vm->peer_notify - 1;
	if (vm->notify_left)
		mod_delayed_work(system_wq, &vm->notify_work,
				 msecs_to_jiffies(vm->peer_notify_interval_ms));
}

/* Context: process (workqueue); takes RTNL. */
static void vfpath_notify_work(struct work_struct *work)
{
	struct vfpath_master *vm = container_of(to_delayed_work(work),
						struct vfpath_master,
						notify_work);

	rtnl_lock();
	if (!vm->dead && vm->notify_left) {
		vfpath_notify_once(vm);
		if (--vm->notify_left)
			schedule_delayed_work(&vm->notify_work,
					      msecs_to_jiffies(vm->peer_notify_interval_ms));
	}
	rtnl_unlock();
}

/* Context: RTNL (ndo_init). */
void vfpath_datapath_init(struct vfpath_master *vm)
{
	ASSERT_RTNL();
	INIT_DELAYED_WORK(&vm->settle_work, vfpath_settle_work);
	INIT_DELAYED_WORK(&vm->notify_work, vfpath_notify_work);
	INIT_WORK(&vm->carrier_work, vfpath_carrier_work);
	vm->mode = VFPATH_MODE_AUTO;
	vm->last_switch_jiffies = jiffies;
}

/*
 * Context: RTNL (ndo_uninit). The works cannot be waited for under RTNL
 * (they take it); they see @dead and do nothing. The destructor, without
 * RTNL, waits for them.
 */
void vfpath_datapath_stop(struct vfpath_master *vm)
{
	ASSERT_RTNL();
	vm->dead = true;
	cancel_delayed_work(&vm->settle_work);
	cancel_delayed_work(&vm->notify_work);
	cancel_work(&vm->carrier_work);
	RCU_INIT_POINTER(vm->tx_dev, NULL);
}
