// SPDX-License-Identifier: GPL-2.0-only
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* Capabilities nfv-vmm cannot run without; each is named in the error. */
static const struct {
	long cap;
	const char *name;
} kvm_required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_NR_MEMSLOTS, "KVM_CAP_NR_MEMSLOTS" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
};

int kvm_check_cap(struct kvm *k, long cap)
{
	int r = ioctl(k->vm_fd >= 0 ? k->vm_fd : k->sys_fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

static bool kvm_host_is_pvm(void)
{
	/* kvm_pvm runs guests without hardware virtualization; kvm_intel/kvm_amd do not coexist with it. */
	return access("/sys/module/kvm_pvm", F_OK) == 0 && access("/sys/module/kvm_intel", F_OK) &&
	       access("/sys/module/kvm_amd", F_OK);
}

static int kvm_fetch_cpuid(struct kvm *k)
{
	for (int n = 64; n <= 1024; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(k->sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			k->supported_cpuid = c;
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			return -errno;
	}
	return -E2BIG;
}

int kvm_open(const char *dev, struct kvm **out)
{
	struct kvm *k = calloc(1, sizeof(*k));
	int ret, ver;

	if (!k)
		return -ENOMEM;
	k->vm_fd = -1;
	k->sys_fd = open(dev, O_RDWR | O_CLOEXEC);
	if (k->sys_fd < 0) {
		ret = -errno;
		log_err("%s: %s (is the kvm module loaded, and may this user open it?)", dev, strerror(errno));
		goto err;
	}
	ver = ioctl(k->sys_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		log_err("%s: KVM API version %d, need %d", dev, ver, KVM_API_VERSION);
		ret = -ENOTSUP;
		goto err;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(kvm_required_caps); i++) {
		if (ioctl(k->sys_fd, KVM_CHECK_EXTENSION, kvm_required_caps[i].cap) <= 0) {
			log_err("%s: required capability %s is missing", dev, kvm_required_caps[i].name);
			ret = -ENOTSUP;
			goto err;
		}
	}
	k->vcpu_mmap_size = ioctl(k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->vcpu_mmap_size <= 0) {
		ret = -errno;
		log_err("%s: KVM_GET_VCPU_MMAP_SIZE: %s", dev, strerror(errno));
		goto err;
	}
	ret = kvm_fetch_cpuid(k);
	if (ret) {
		log_err("%s: KVM_GET_SUPPORTED_CPUID: %s", dev, strerror(-ret));
		goto err;
	}
	k->vm_fd = ioctl(k->sys_fd, KVM_CREATE_VM, 0);
	if (k->vm_fd < 0) {
		ret = -errno;
		log_err("%s: KVM_CREATE_VM: %s", dev, strerror(errno));
		goto err;
	}
	k->max_vcpus = kvm_check_cap(k, KVM_CAP_MAX_VCPUS);
	if (k->max_vcpus <= 0)
		k->max_vcpus = kvm_check_cap(k, KVM_CAP_NR_VCPUS);
	if (k->max_vcpus <= 0)
		k->max_vcpus = 4;
	k->nr_slots = kvm_check_cap(k, KVM_CAP_NR_MEMSLOTS);
	k->pvm = kvm_host_is_pvm();
	/* VMX needs a 3-page TSS region and an identity-map page inside guest physical space; put them
	 * in the top of the MMIO hole, out of every window we hand out. Harmless elsewhere. */
	if (ioctl(k->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0) {
		ret = -errno;
		log_err("KVM_SET_TSS_ADDR: %s", strerror(errno));
		goto err;
	}
	if (kvm_check_cap(k, KVM_CAP_SET_IDENTITY_MAP_ADDR)) {
		uint64_t addr = 0xfffbc000ul;

		if (ioctl(k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &addr) < 0)
			log_warn("KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
	}
	*out = k;
	return 0;
err:
	kvm_close(k);
	return ret;
}

void kvm_close(struct kvm *k)
{
	if (!k)
		return;
	if (k->vm_fd >= 0)
		close(k->vm_fd);
	if (k->sys_fd >= 0)
		close(k->sys_fd);
	free(k->supported_cpuid);
	free(k);
}

int kvm_setup_irqchip(struct kvm *k)
{
	if (kvm_check_cap(k, KVM_CAP_IRQCHIP)) {
		if (ioctl(k->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
			int ret = -errno;

			log_err("KVM_CREATE_IRQCHIP: %s", strerror(errno));
			return ret;
		}
		k->irqchip = true;
	} else {
		log_warn("no in-kernel irqchip: guests get no interrupts");
	}
	if (k->irqchip && kvm_check_cap(k, KVM_CAP_PIT2)) {
		struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

		if (ioctl(k->vm_fd, KVM_CREATE_PIT2, &pit) == 0)
			k->pit = true;
		else
			log_warn("KVM_CREATE_PIT2: %s (no i8254 timer)", strerror(errno));
	}
	return 0;
}

int kvm_set_memslot(struct kvm *k, uint32_t slot, uint32_t flags, uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	if (ioctl(k->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		int ret = -errno;

		log_err("memslot %u (gpa 0x%llx, %llu MiB, flags 0x%x): %s", slot, (unsigned long long)gpa,
			(unsigned long long)(size >> 20), flags, strerror(errno));
		return ret;
	}
	return 0;
}

int kvm_get_dirty_log(struct kvm *k, uint32_t slot, uint64_t *bitmap)
{
	struct kvm_dirty_log d = { .slot = slot, .dirty_bitmap = bitmap };

	return ioctl(k->vm_fd, KVM_GET_DIRTY_LOG, &d) < 0 ? -errno : 0;
}

int kvm_set_irq_level(struct kvm *k, uint32_t gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = level };

	if (!k->irqchip)
		return -ENODEV;
	return ioctl(k->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}
