/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PCI host bridge, configuration space, BARs, INTx, MSI and MSI-X.
 *
 * One host bridge (struct pci_host) owns bus 0 with up to 32 slots, function 0 each; the bridge
 * itself is 00:00.0. The guest reaches configuration space through
 *   - configuration mechanism #1 (PCI Local Bus 3.0 s3.2.2.3.2): 0xCF8 address, 0xCFC-0xCFF data,
 *     registered on the PIO bus the caller passes, 256 bytes per function;
 *   - ECAM (PCI Express Base 4.0 s7.2.2): a 1 MiB MMIO window at a caller-chosen base (bus 0 only),
 *     4 KiB per function.
 *
 * Every function has a type-0 header emulated here with read-only / writable / write-1-to-clear
 * masks, a capability list, the command register (I/O and memory decode are honoured: a BAR's
 * window is on the PIO/MMIO bus only while its decode bit is set and the BAR holds a valid
 * address), status, interrupt line/pin. BARs (I/O, 32-bit memory, 64-bit memory, prefetchable) are
 * sized and placed by the guest; an overlapping or invalid placement is refused (logged
 * rate-limited, counted) and the BAR simply stays unmapped: the guest keeps running. A device sees
 * only offsets inside its BAR, through the struct bus_ops of core/bus.h it supplies per BAR.
 *
 * MSI-X (PCI Local Bus 3.0 / PCIe 4.0 s7.7.2) table and PBA live inside one of the device's BARs;
 * the core intercepts those ranges and forwards every other offset of that BAR to the device.
 * Per-vector mask, function mask and enable are honoured: a vector that fires while masked sets its
 * pending bit and is delivered when unmasked. MSI (s7.7.1) is emulated with 64-bit addresses and
 * per-vector masking.
 *
 * Interrupt delivery goes through struct pci_irq_ops, which the VMM supplies (vmm/pci/kvm_irq.h has
 * the KVM side; tests supply counters). Legacy INTx is swizzled to a GSI on the in-kernel IOAPIC:
 *     GSI = 16 + ((slot + pin - 1) % 4)      (pin: 1 = INTA# .. 4 = INTD#)
 * which is what the VMM must describe in its MP table / ACPI _PRT.
 *
 * Locking: every device has a recursive mutex that serialises config-space accesses, the MSI-X
 * table/PBA and pci_msix_notify()/pci_msi_notify()/pci_set_intx(); so vCPU threads and
 * device/backend threads may call in concurrently. The bus_ops of a BAR are called WITHOUT it
 * (devices lock their own registers). The cfg_read/cfg_write/bar_map hooks and the pci_irq_ops
 * callbacks are called WITH it held; being recursive, a hook may call pci_* functions of the same
 * device from the same thread; pci_irq_ops callbacks may block briefly in ioctls but must not wait
 * for other threads that call into this device. Devices are added before vCPUs start and removed
 * only after they have stopped.
 *
 * Guest-controlled values (every config write, every MSI-X table write) are hostile input: checked,
 * counted in struct pci_stats, logged rate-limited, never a reason to abort.
 *
 * Wiring in the VMM (after KVM_CREATE_IRQCHIP; see kvm_irq.h):
 *     kvm_irq_create(vm_fd, &ki);
 *     cfg = { .pio = &pio_bus, .mmio = &mmio_bus, .ecam_base = ECAM,
 *             .irq_ops = &pci_kvm_irq_ops, .irq_opaque = ki };
 *     pci_host_create(&cfg, &host);
 *     each configured device's create function: pci_dev_add(host, slot, &dev_cfg, &dev);
 *     pci_host_assign_bars(host, &windows);     (no firmware: place BARs, enable decode)
 *     ... run vCPUs; the PIO/MMIO exit handlers call bus_read/bus_write ...
 *     destroy the devices, pci_host_destroy(host), kvm_irq_destroy(ki).
 * Describe to the guest: for each device with a pin, MP table I/O interrupt entries (type INT, bus
 * PCI, source irq = slot << 2 | (pin - 1), IOAPIC pin = pci_dev_intx_gsi()) or the same in ACPI
 * _PRT, level-triggered, active-low (the conventional PCI polarity; KVM's IOAPIC takes "1" as
 * asserted whatever the polarity the guest programs). For ECAM, an MCFG entry for bus 0..0 at
 * ecam_base.
 */
#ifndef NFV_VMM_PCI_H
#define NFV_VMM_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "irq.h"

#define PCI_SLOTS 32
#define PCI_NUM_BARS 6
#define PCI_CFG_SIZE 256	     /* conventional configuration space */
#define PCI_CFG_EXT_SIZE 4096	     /* PCI Express extended configuration space (ECAM only) */
#define PCI_ECAM_BUS_SIZE (1u << 20) /* 32 devices x 8 functions x 4 KiB */
#define PCI_MSIX_MAX_VECTORS 2048    /* PCIe 4.0 s7.7.2.2: Table Size is 11 bits */
#define PCI_MSI_MAX_VECTORS 32

/* Host bridge identity when pci_host_cfg leaves it 0: Intel Q35 (82G33) DRAM controller. */
#define PCI_HOST_VENDOR_DEFAULT 0x8086
#define PCI_HOST_DEVICE_DEFAULT 0x29c0

/*
 * Identity of nfvisor's own virtual devices (the test device): "NF", an id not assigned by the
 * PCI-SIG registry as far as we know; only ever seen by our own guests.
 */
#define PCI_VENDOR_NFVISOR 0x4e46
#define PCI_DEVICE_NFV_TESTDEV 0x0001

/* INTx swizzle (see above); @pin is 1..4. Valid for slot 0..31. */
#define PCI_INTX_GSI(slot, pin) (16u + (((unsigned)(slot) + (unsigned)(pin)-1u) % 4u))

/* Devfn as used in config addresses and in pci_irq_ops ids: slot << 3 | function. */
#define PCI_DEVFN(slot, fn) ((uint8_t)(((slot) << 3) | ((fn)&7)))

struct pci_host;
struct pci_dev;

/* ---- Interrupt delivery: supplied by the VMM (or a test) when creating the host. ---- */

/*
 * State of one MSI/MSI-X vector as the guest programmed it, passed to pci_irq_ops.vector_update.
 * @deliverable: MSI(-X) enabled, function not masked, vector not masked (and, for MSI, the vector
 * is among the enabled ones). When false the VMM must detach the vector's irqfd: the eventfd then
 * keeps counting, the core reports a non-zero count as the vector's pending bit (PBA / MSI pending
 * bits, checked with a non-consuming poll), and when the vector becomes deliverable again and the
 * irqfd is re-attached, KVM_IRQFD injects the message at once because the eventfd is already
 * signalled (PCIe 4.0 s6.1.4.5: a masked vector's event is held pending and sent on unmask).
 */
struct pci_msi_vector {
	uint64_t addr;
	uint32_t data;
	bool deliverable;
	bool is_msix;
	int fd; /* eventfd bound with pci_msi_set_vector_fd(), or -1 */
};

struct pci_irq_ops {
	/*
	 * Inject one MSI message now (KVM_SIGNAL_MSI or equivalent). @dev/@vector identify the
	 * source (pci_dev_devfn(dev) is a stable id). Required.
	 */
	void (*route_msi)(void *opaque, struct pci_dev *dev, unsigned vector, uint64_t addr,
			  uint32_t data);
	/*
	 * Set the level of the IOAPIC input @gsi (16..19 per PCI_INTX_GSI). The host ORs the INTx
	 * levels of all devices sharing a GSI and calls this only when the wired-OR changes.
	 * Required when any device has an interrupt pin.
	 */
	void (*set_intx)(void *opaque, unsigned gsi, int level);
	/*
	 * Called for every vector that has an eventfd bound (pci_msi_set_vector_fd) whenever its
	 * address, data, deliverability or fd changes, and once with state->fd = -1 when it is
	 * unbound or the device goes away. The KVM side uses it to keep a GSI route + irqfd
	 * attached while the vector is deliverable and detached while it is masked. @old_fd is the
	 * previously bound fd (-1 if none), to deassign. Required for pci_msi_set_vector_fd (else
	 * it returns -EOPNOTSUPP).
	 */
	void (*vector_update)(void *opaque, struct pci_dev *dev, unsigned vector, int old_fd,
			      const struct pci_msi_vector *state);
};

/* ---- Host bridge ---- */

struct pci_host_cfg {
	struct bus *pio;		   /* config mechanism #1 and I/O BARs; NULL: neither */
	struct bus *mmio;		   /* ECAM window and memory BARs; required */
	uint64_t ecam_base;		   /* 1 MiB aligned; 0: no ECAM window */
	const struct pci_irq_ops *irq_ops; /* required */
	void *irq_opaque;
	uint16_t vendor_id, device_id; /* of the host bridge at 00:00.0; 0: the defaults above */
	/*
	 * Optional: the guest wrote the PC reset control register (1-byte write to 0xCF9 with bit 2
	 * set: hard reset requested). Called on the vCPU thread.
	 */
	void (*reset_request)(void *opaque);
	void *reset_opaque;
};

/*
 * Create the host bridge, register 0xCF8-0xCFF on cfg->pio (when given) and the ECAM window on
 * cfg->mmio (when ecam_base != 0), and put the bridge function at 00:00.0.
 * Returns 0, -EINVAL (bad cfg), -EEXIST (a window is taken) or -ENOMEM.
 */
int pci_host_create(const struct pci_host_cfg *cfg, struct pci_host **out)
	__attribute__((warn_unused_result));
/* Remove every device (unbinding vector fds through vector_update) and the windows. NULL-safe. */
void pci_host_destroy(struct pci_host *host);

/* Windows for pci_host_assign_bars; each range is [base, limit) and may be empty (base == limit).
 */
struct pci_bar_windows {
	uint64_t io_base, io_limit;	  /* e.g. 0xc000 .. 0x10000 */
	uint64_t mem32_base, mem32_limit; /* below 4 GiB, e.g. 0xe0000000 .. 0xfec00000 */
	uint64_t mem64_base,
		mem64_limit; /* above RAM; 64-bit BARs go here first, else into mem32 */
};

/*
 * Firmware-less boot: give every BAR of every device a naturally aligned address inside the windows
 * (largest first), program it into config space and set I/O / memory decode and bus mastering, as a
 * BIOS would. BARs already placed are kept. Returns 0 or -ENOSPC (a window is too small; the BARs
 * that did fit stay assigned, the message names the device and BAR).
 */
int pci_host_assign_bars(struct pci_host *host, const struct pci_bar_windows *win)
	__attribute__((warn_unused_result));

/*
 * Configuration access as if from the guest (host-side tools, tests, the VMM's own set-up).
 * @devfn: PCI_DEVFN(slot, fn); @off < 4096; @size 1, 2 or 4. Absent functions read all-ones.
 */
uint32_t pci_host_cfg_read(struct pci_host *host, uint8_t devfn, unsigned off, unsigned size);
void pci_host_cfg_write(struct pci_host *host, uint8_t devfn, unsigned off, unsigned size,
			uint32_t value);

/* Device in @slot (function 0), or NULL. */
struct pci_dev *pci_host_dev(struct pci_host *host, unsigned slot);

/* Counters of hostile or odd guest behaviour; all monotonic. */
struct pci_stats {
	uint64_t cfg_bad_access;  /* misaligned / bad size config accesses, dropped */
	uint64_t cfg_absent;	  /* config accesses to absent functions / other buses */
	uint64_t bar_refused;	  /* BAR placements refused (overlap, out of range) */
	uint64_t msix_bad_access; /* MSI-X table/PBA accesses of a bad size/alignment */
	uint64_t msi_bad_vector;  /* notify with an out-of-range vector */
	uint64_t msi_pending;	  /* vectors that fired while masked */
	uint64_t msi_delivered;	  /* messages handed to route_msi */
};
void pci_host_stats(struct pci_host *host, struct pci_stats *out);

/* ---- Devices ---- */

enum pci_bar_type {
	PCI_BAR_NONE = 0,
	PCI_BAR_IO,    /* size 4 .. 256 bytes (PCI 3.0 s6.2.5.1) */
	PCI_BAR_MEM32, /* size 16 bytes .. 2 GiB */
	PCI_BAR_MEM64, /* size 16 bytes .. 2^63; uses the next BAR slot too (leave it NONE) */
};

struct pci_bar_cfg {
	enum pci_bar_type type;
	bool prefetchable; /* memory BARs only */
	uint64_t size;	   /* power of two within the limits above */
	/*
	 * Register access; offsets are relative to the BAR. NULL: the BAR holds only the MSI-X
	 * table/PBA (other offsets read as zero, writes are ignored).
	 */
	const struct bus_ops *ops;
	void *opaque;
};

/*
 * Description of one PCI function. The VMM keeps a table of these (one per configured device kind)
 * and adds them by slot: pci_dev_add(host, slot, &cfg, &dev).
 */
struct pci_dev_cfg {
	const char *name; /* for messages and bus window names */
	uint16_t vendor_id, device_id;
	uint16_t subsys_vendor_id, subsys_id;
	uint8_t revision;
	uint32_t class_code;  /* 24 bits: base class << 16 | subclass << 8 | prog-if */
	uint8_t header_flags; /* bit 7 of the header type (multi-function); normally 0 */
	uint8_t intx_pin;     /* 0: no INTx, 1..4: INTA#..INTD# */
	struct pci_bar_cfg bar[PCI_NUM_BARS];

	/* MSI-X: 0 vectors = no capability. Table and PBA must fit in bar[msix_bar], 8-byte
	 * aligned. */
	unsigned msix_vectors; /* 1 .. PCI_MSIX_MAX_VECTORS */
	uint8_t msix_bar;
	uint32_t msix_table_offset; /* 16 bytes per vector */
	uint32_t msix_pba_offset;   /* 8 bytes per 64 vectors */

	/* MSI: 0 vectors = no capability; else 1, 2, 4, 8, 16 or 32 (64-bit, per-vector mask). */
	unsigned msi_vectors;

	/* Add a PCI Express endpoint capability (so guests use the 4 KiB extended space via ECAM).
	 */
	bool pcie;

	/*
	 * Optional hooks for device-specific registers (virtio's PCI cfg window capability, VFIO's
	 * passthrough of config space). Called with the device lock held, after the core has
	 * handled the access: cfg_read may replace the value the core computed (@val), cfg_write
	 * sees the guest's value and its offset/size after the core applied the write through its
	 * masks. Only accesses from the guest (or pci_host_cfg_*) reach them, with off < 4096, size
	 * 1/2/4.
	 */
	uint32_t (*cfg_read)(void *opaque, unsigned off, unsigned size, uint32_t val);
	void (*cfg_write)(void *opaque, unsigned off, unsigned size, uint32_t val);
	/*
	 * Optional: a BAR was mapped at @addr (mapped = true) or unmapped (decode off, moved away,
	 * or removed). VFIO uses it to move its memslots; emulated devices do not need it. The bus
	 * window is (un)registered by the core either way. Called with the device lock held.
	 */
	void (*bar_map)(void *opaque, unsigned bar, uint64_t addr, bool mapped);
	void *opaque; /* for the hooks above */
};

/*
 * Add a function at @slot (1..31; 0 is the host bridge), function 0. Validates @cfg (BAR sizes and
 * kinds, MSI-X table/PBA inside the BAR and not overlapping, pin 0..4); builds the header and the
 * capability list (MSI-X, MSI, PCIe as configured). BARs start unplaced and decode off.
 * Returns 0, -EINVAL (cfg invalid; the message says which field), -EEXIST (slot taken), -ENOMEM.
 * The device belongs to the host; it is freed by pci_dev_remove or pci_host_destroy.
 */
int pci_dev_add(struct pci_host *host, unsigned slot, const struct pci_dev_cfg *cfg,
		struct pci_dev **out) __attribute__((warn_unused_result));
/* Unmap the BARs, unbind vector fds, free the device. Only while vCPUs are stopped. NULL-safe. */
void pci_dev_remove(struct pci_dev *dev);

uint8_t pci_dev_devfn(const struct pci_dev *dev);
const char *pci_dev_name(const struct pci_dev *dev);
/* The GSI this device's INTx pin is wired to, or -1 without a pin. */
int pci_dev_intx_gsi(const struct pci_dev *dev);
/* Current guest address of @bar, or false when it is not mapped (decode off / unplaced / refused).
 */
bool pci_dev_bar_addr(struct pci_dev *dev, unsigned bar, uint64_t *addr);

/*
 * Add a capability to the list at the first free 4-byte aligned offset >= 0x40. @body is the
 * capability after its ID and next-pointer bytes (@len bytes, may be 0); all of it is read-only to
 * the guest unless made writable with pci_cfg_set_wmask. Returns the capability's offset (> 0) or
 * -ENOSPC / -EINVAL. Use only before vCPUs start.
 */
int pci_cap_add(struct pci_dev *dev, uint8_t cap_id, const void *body, unsigned len)
	__attribute__((warn_unused_result));
/* Offset of the first capability with @cap_id, or 0. */
unsigned pci_cap_find(struct pci_dev *dev, uint8_t cap_id);

/*
 * Raw config space access for the device model (no masks, no side effects): read/initialise
 * device-specific registers, make bytes guest-writable (wmask bit set = writable) or
 * write-1-to-clear. Out-of-range offsets are ignored / read zero.
 */
uint32_t pci_cfg_get(struct pci_dev *dev, unsigned off, unsigned size);
void pci_cfg_set(struct pci_dev *dev, unsigned off, unsigned size, uint32_t val);
void pci_cfg_set_wmask(struct pci_dev *dev, unsigned off, unsigned size, uint32_t wmask);
void pci_cfg_set_w1cmask(struct pci_dev *dev, unsigned off, unsigned size, uint32_t w1cmask);

/* ---- Interrupts from the device ---- */

/*
 * Set the device's INTx level (level-triggered, the device deasserts). Honours the command
 * register's Interrupt Disable bit and reflects the level in the status register's Interrupt Status
 * bit (PCI 3.0 s6.2.2, s6.2.3). No-op for a device without a pin.
 */
void pci_set_intx(struct pci_dev *dev, int level);
/* An irq_line (core/irq.h) that drives pci_set_intx, for chip models written against irq_line. */
void pci_intx_line(struct pci_dev *dev, struct irq_line *out);

bool pci_msix_enabled(struct pci_dev *dev);
bool pci_msi_enabled(struct pci_dev *dev);

/*
 * Fire MSI-X @vector. Delivered through route_msi now, or, while the vector or the function is
 * masked, its PBA bit is set and delivery happens on unmask (PCIe 4.0 s6.1.4.5).
 * Returns 0 (delivered or pending), -EINVAL (vector out of range, counted) or -EAGAIN (MSI-X not
 * enabled: nothing recorded; the device may fall back to INTx).
 */
int pci_msix_notify(struct pci_dev *dev, unsigned vector);
/*
 * Same for MSI @vector (< cfg.msi_vectors, else -EINVAL). When the guest granted fewer vectors than
 * requested (Multiple Message Enable), vectors alias onto the granted ones (vector & (granted -
 * 1)), whose number goes into the low bits of Message Data (PCIe 4.0 s7.7.1.5). Masked: pending
 * bit.
 */
int pci_msi_notify(struct pci_dev *dev, unsigned vector);
/*
 * Fire @vector through whatever the guest enabled: MSI-X, else MSI, else assert INTx (the device
 * deasserts with pci_set_intx(dev, 0) when the guest acknowledges). Returns as above.
 */
int pci_irq_notify(struct pci_dev *dev, unsigned vector);

/*
 * Bind an eventfd to an MSI or MSI-X vector (@msix selects the table), for devices whose interrupts
 * come from another process or the kernel (vhost-user backends, VFIO): the VMM attaches it as an
 * irqfd while the vector is deliverable (pci_irq_ops.vector_update). @fd -1 unbinds. The fd stays
 * owned by the caller and must stay open until unbound. Returns 0, -EINVAL (vector out of range) or
 * -EOPNOTSUPP (the host's pci_irq_ops has no vector_update).
 */
int pci_msi_set_vector_fd(struct pci_dev *dev, bool msix, unsigned vector, int fd)
	__attribute__((warn_unused_result));

#endif
