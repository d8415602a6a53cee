/* SPDX-License-Identifier: GPL-2.0-only */
/* The VM's internals, shared by vm.c and the control socket (control.c) only. */
#ifndef NFV_VMM_VM_PRIV_H
#define NFV_VMM_VM_PRIV_H

#include <pthread.h>

#include "bus.h"
#include "evloop.h"
#include "gmem.h"
#include "kvm.h"
#include "layout.h"
#include "legacy.h"
#include "linux.h"
#include "serial.h"
#include "testdev.h"
#include "vcpu.h"
#include "devices.h"
#include "vm.h"

struct control;
struct kvm_irq;
struct pci_host;
struct vm_dev;

/* KVM memslots for device BARs mapped into the guest (vfio-pci). */
#define VM_BAR_SLOT_BASE 16
#define VM_BAR_SLOTS 32

struct vm_bar_slot {
	uint64_t gpa;
	void *hva;
	uint64_t size; /* 0: free */
};

/* 64-bit PCI BAR window above RAM, inside the boot identity map. */
#define VM_PCI_MMIO64_SIZE (16ull << 30)

struct vm {
	struct vm_cfg cfg;
	struct kvm *kvm;
	struct mem_layout layout;
	struct backing *ram;
	struct gmem gm;
	struct bus pio, mmio;
	bool pio_init, mmio_init;
	struct serial *serial;
	struct testdev *testdev;
	struct evloop *loop;
	int end_fd;
	int sig_fd;
	volatile int stop;
	int status; /* -1 until decided */
	struct vcpu_env env;
	struct vcpu *vcpu[VM_MAX_VCPUS];
	pthread_barrier_t barrier;
	uint64_t entry;
	struct linux_boot linux_boot;
	uint64_t cr3;
	uint32_t dirty_flags;
	struct control *control;
	struct kvm_irq *kirq;
	pthread_mutex_t bar_slot_lock;
	struct vm_bar_slot bar_slot[VM_BAR_SLOTS];
	struct legacy *legacy;
	struct pci_host *pci;
	struct vm_dev *devs[VM_MAX_DEVICES];
	unsigned nr_devs;
	uint64_t started_ns;
};

/* Process start (set by main) for boot-time figures. */
extern uint64_t vmm_start_ns;

static inline int cpuset_first(const cpu_set_t *set)
{
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, set))
			return c;
	return -1;
}

/* control.c: the control socket (JSON lines) and end-of-run statistics. */
int control_init(struct vm *vm) __attribute__((warn_unused_result));
void control_started(struct vm *vm);
void control_report(struct vm *vm);
void control_fini(struct vm *vm);

/* The guest asked for a reset (i8042, 0xCF9): ends the VM with VM_EXIT_RESET. */
void vm_request_reset(struct vm *vm);

/* Dirty-page logging on every RAM memslot (vm.c). */
int vm_dirty_log_set(struct vm *vm, bool on) __attribute__((warn_unused_result));
/* Fetch-and-clear: calls @cb for each dirty 4 KiB page (guest physical address). Returns pages or -errno. */
long vm_dirty_log_fetch(struct vm *vm, void (*cb)(void *opaque, uint64_t gpa), void *opaque);

#endif
