// SPDX-License-Identifier: GPL-2.0-only
#include "emulate.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"
#include "pgwalk.h"

#define RFLAGS_CF (1ull << 0)
#define RFLAGS_PF (1ull << 2)
#define RFLAGS_AF (1ull << 4)
#define RFLAGS_ZF (1ull << 6)
#define RFLAGS_SF (1ull << 7)
#define RFLAGS_OF (1ull << 11)
#define RFLAGS_AC (1ull << 18)
#define CR4_OSXSAVE (1ull << 18)

static const char *const emu_names[EMU__MAX] = {
	[EMU_RDTSCP] = "rdtscp", [EMU_XGETBV] = "xgetbv", [EMU_CLAC] = "clac",
	[EMU_STAC] = "stac",	 [EMU_POPCNT] = "popcnt", [EMU_X87] = "x87",
	[EMU_CMPXCHG16B] = "cmpxchg16b",
	[EMU_XSAVE] = "xsave",
};

const char *emu_insn_name(enum emu_insn k)
{
	return (unsigned)k < EMU__MAX ? emu_names[k] : "?";
}

/* Decoded prefixes and operand of one instruction. */
struct emu_ins {
	enum emu_insn kind;
	unsigned len;
	int opsize;	 /* 2, 4 or 8 */
	uint8_t rex;
	uint8_t modrm;
	int seg;	 /* 0: none, 4: fs, 5: gs */
	uint8_t x87[2];	 /* opcode bytes for x87 */
	/* ModRM memory operand: base/index registers (-1 none), scale, disp, rip-relative */
	int mem;
	int base, index, scale;
	int64_t disp;
	int riprel;
};

static int emu_modrm(const uint8_t *b, size_t len, size_t *pos, int long_mode, struct emu_ins *in)
{
	uint8_t m, mod, rm;

	if (*pos >= len)
		return -ENOTSUP;
	m = b[(*pos)++];
	in->modrm = m;
	mod = m >> 6;
	rm = m & 7;
	if (mod == 3) {
		in->mem = 0;
		return 0;
	}
	in->mem = 1;
	in->base = rm | ((in->rex & 1) << 3);
	in->index = -1;
	in->scale = 1;
	if (rm == 4) { /* SIB */
		uint8_t sib, idx, base;

		if (*pos >= len)
			return -ENOTSUP;
		sib = b[(*pos)++];
		in->scale = 1 << (sib >> 6);
		idx = ((sib >> 3) & 7) | ((in->rex & 2) << 2);
		base = (sib & 7) | ((in->rex & 1) << 3);
		in->index = idx == 4 ? -1 : idx;
		in->base = base;
		if ((sib & 7) == 5 && mod == 0) {
			in->base = -1;
			mod = 2; /* disp32 follows */
			if (*pos + 4 > len)
				return -ENOTSUP;
			in->disp = (int32_t)(b[*pos] | b[*pos + 1] << 8 | b[*pos + 2] << 16 | (uint32_t)b[*pos + 3] << 24);
			*pos += 4;
			return 0;
		}
	} else if (rm == 5 && mod == 0) {
		in->base = -1;
		in->riprel = long_mode;
		if (*pos + 4 > len)
			return -ENOTSUP;
		in->disp = (int32_t)(b[*pos] | b[*pos + 1] << 8 | b[*pos + 2] << 16 | (uint32_t)b[*pos + 3] << 24);
		*pos += 4;
		return 0;
	}
	if (mod == 1) {
		if (*pos >= len)
			return -ENOTSUP;
		in->disp = (int8_t)b[(*pos)++];
	} else if (mod == 2) {
		if (*pos + 4 > len)
			return -ENOTSUP;
		in->disp = (int32_t)(b[*pos] | b[*pos + 1] << 8 | b[*pos + 2] << 16 | (uint32_t)b[*pos + 3] << 24);
		*pos += 4;
	}
	return 0;
}

static int emu_decode_full(const uint8_t *b, size_t len, int long_mode, struct emu_ins *in)
{
	size_t pos = 0;
	int rep = 0, opsize_prefix = 0;

	memset(in, 0, sizeof(*in));
	in->base = in->index = -1;
	/* Legacy prefixes (at most 14 bytes of them; an instruction is at most 15 bytes). */
	for (; pos < len && pos < 14; pos++) {
		uint8_t p = b[pos];

		if (p == 0x66)
			opsize_prefix = 1;
		else if (p == 0xf3)
			rep = 3;
		else if (p == 0xf2)
			rep = 2;
		else if (p == 0x64)
			in->seg = 4;
		else if (p == 0x65)
			in->seg = 5;
		else if (p == 0x2e || p == 0x36 || p == 0x3e || p == 0x26 || p == 0xf0 || p == 0x67)
			;
		else
			break;
	}
	if (long_mode && pos < len && (b[pos] & 0xf0) == 0x40)
		in->rex = b[pos++];
	in->opsize = (in->rex & 8) ? 8 : opsize_prefix ? 2 : 4;
	if (pos + 1 > len)
		return -ENOTSUP;
	if (b[pos] == 0x0f) {
		if (pos + 2 > len)
			return -ENOTSUP;
		if (b[pos + 1] == 0x01 && pos + 3 <= len) {
			switch (b[pos + 2]) {
			case 0xf9:
				in->kind = EMU_RDTSCP;
				break;
			case 0xd0:
				in->kind = EMU_XGETBV;
				break;
			case 0xca:
				in->kind = EMU_CLAC;
				break;
			case 0xcb:
				in->kind = EMU_STAC;
				break;
			default:
				return -ENOTSUP;
			}
			in->len = (unsigned)pos + 3;
			return 0;
		}
		if (b[pos + 1] == 0xc7 && (in->rex & 8) && pos + 3 <= len && ((b[pos + 2] >> 3) & 7) == 1 &&
		    (b[pos + 2] >> 6) != 3) {
			pos += 2;
			in->kind = EMU_CMPXCHG16B;
			if (emu_modrm(b, len, &pos, long_mode, in))
				return -ENOTSUP;
			in->len = (unsigned)pos;
			return pos <= 15 ? 0 : -ENOTSUP;
		}
		/* 0f ae /4 xsave, /5 xrstor, /6 xsaveopt (memory forms); 0f c7 /3 xrstors, /4 xsavec, /5 xsaves */
		if (pos + 3 <= len && (b[pos + 2] >> 6) != 3 &&
		    ((b[pos + 1] == 0xae && ((b[pos + 2] >> 3) & 7) >= 4 && ((b[pos + 2] >> 3) & 7) <= 6) ||
		     (b[pos + 1] == 0xc7 && ((b[pos + 2] >> 3) & 7) >= 3 && ((b[pos + 2] >> 3) & 7) <= 5))) {
			pos += 2;
			in->kind = EMU_XSAVE;
			if (emu_modrm(b, len, &pos, long_mode, in))
				return -ENOTSUP;
			in->len = (unsigned)pos;
			return pos <= 15 ? 0 : -ENOTSUP;
		}
		if (b[pos + 1] == 0xb8 && rep == 3) {
			pos += 2;
			in->kind = EMU_POPCNT;
			if (emu_modrm(b, len, &pos, long_mode, in))
				return -ENOTSUP;
			in->len = (unsigned)pos;
			return pos <= 15 ? 0 : -ENOTSUP;
		}
		return -ENOTSUP;
	}
	if (pos + 2 <= len) {
		uint8_t o = b[pos], m = b[pos + 1];

		if ((o == 0xdb && m == 0xe3) || (o == 0xd9 && (m == 0xe8 || m == 0xee)) || (o == 0xdd && m == 0xd8) ||
		    (o == 0xdf && m == 0xe0)) {
			in->kind = EMU_X87;
			in->x87[0] = o;
			in->x87[1] = m;
			in->len = (unsigned)pos + 2;
			return 0;
		}
	}
	return -ENOTSUP;
}

int emu_decode(const uint8_t *b, size_t len, int long_mode, enum emu_insn *kind, unsigned *insn_len)
{
	struct emu_ins in;
	int ret = emu_decode_full(b, len, long_mode, &in);

	if (ret)
		return ret;
	*kind = in.kind;
	*insn_len = in.len;
	return 0;
}

static __u64 *emu_reg(struct kvm_regs *r, int n)
{
	__u64 *regs[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
			       &r->r8,	&r->r9,	 &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15 };

	return regs[n & 15];
}

/* Linear address of a ModRM memory operand. */
static uint64_t emu_mem_addr(const struct emu_ins *in, struct kvm_regs *r, const struct kvm_sregs *s, int long_mode)
{
	uint64_t addr = (uint64_t)in->disp;

	if (in->base >= 0)
		addr += *emu_reg(r, in->base);
	if (in->index >= 0)
		addr += *emu_reg(r, in->index) * (uint64_t)in->scale;
	if (in->riprel)
		addr += r->rip + in->len;
	if (in->seg == 4)
		addr += s->fs.base;
	else if (in->seg == 5)
		addr += s->gs.base;
	return long_mode ? addr : (uint32_t)addr;
}

static int emu_get_msr(int fd, uint32_t index, uint64_t *val)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = index };

	if (ioctl(fd, KVM_GET_MSRS, &m) != 1)
		return -EIO;
	*val = m.e.data;
	return 0;
}

static int emu_inject(int fd, uint8_t vector, int has_err, uint32_t err)
{
	struct kvm_vcpu_events ev;

	if (ioctl(fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -errno;
	ev.exception.injected = 1;
	ev.exception.nr = vector;
	ev.exception.has_error_code = (uint8_t)has_err;
	ev.exception.error_code = err;
	ev.flags = 0;
	return ioctl(fd, KVM_SET_VCPU_EVENTS, &ev) < 0 ? -errno : 0;
}

/* x87 state in KVM's fxsave-like layout: fsw bits 13:11 TOP, ftwx one bit per physical register. */
static int emu_x87(int fd, const struct emu_ins *in, struct kvm_regs *r)
{
	struct kvm_fpu f;
	unsigned top;

	if (ioctl(fd, KVM_GET_FPU, &f) < 0)
		return -errno;
	top = (f.fsw >> 11) & 7;
	if (in->x87[0] == 0xdb) { /* fninit */
		f.fcw = 0x37f;
		f.fsw = 0;
		f.ftwx = 0;
	} else if (in->x87[0] == 0xd9) { /* fld1 / fldz: push */
		uint8_t *st;

		/* fpr[] is in ST(i) order (FXSAVE layout), the abridged tag word by physical register. */
		top = (top - 1) & 7;
		memmove(f.fpr[1], f.fpr[0], 7 * 16);
		st = f.fpr[0];
		memset(st, 0, 16);
		if (in->x87[1] == 0xe8) {
			st[7] = 0x80;	/* mantissa 1.0 (explicit integer bit) */
			st[8] = 0xff;	/* exponent 0x3fff */
			st[9] = 0x3f;
		}
		f.fsw = (uint16_t)((f.fsw & ~(7u << 11)) | (top << 11));
		f.ftwx |= (uint8_t)(1u << top);
	} else if (in->x87[0] == 0xdd) { /* fstp st(0): pop */
		f.ftwx &= (uint8_t)~(1u << top);
		memmove(f.fpr[0], f.fpr[1], 7 * 16);
		memset(f.fpr[7], 0, 16);
		top = (top + 1) & 7;
		f.fsw = (uint16_t)((f.fsw & ~(7u << 11)) | (top << 11));
	} else { /* fnstsw ax */
		r->rax = (r->rax & ~0xffffull) | f.fsw;
		return 0;
	}
	return ioctl(fd, KVM_SET_FPU, &f) < 0 ? -errno : 0;
}

int emu_fallback(struct vcpu *v, enum emu_insn *kind)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct pgwalk_mode mode;
	struct emu_ins in;
	uint8_t b[15];
	uint64_t rip;
	int long_mode, ret, cpl;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	mode = (struct pgwalk_mode){ .cr0 = s.cr0, .cr3 = s.cr3, .cr4 = s.cr4, .efer = s.efer };
	long_mode = s.cs.l;
	cpl = s.cs.dpl;
	rip = long_mode ? r.rip : s.cs.base + (r.rip & 0xffffffff);
	/* The instruction may end near a page boundary: read what is readable, at least one byte. */
	memset(b, 0, sizeof(b));
	for (size_t n = sizeof(b); n; n--)
		if (pgwalk_read(v->env->gm, &mode, rip, b, n) == 0)
			goto got;
	return -EFAULT;
got:
	ret = emu_decode_full(b, sizeof(b), long_mode, &in);
	if (ret)
		return ret;
	*kind = in.kind;
	switch (in.kind) {
	case EMU_RDTSCP: {
		uint64_t tsc, aux = 0;

		if (emu_get_msr(v->fd, 0x10, &tsc))
			return -EIO;
		(void)emu_get_msr(v->fd, 0xc0000103, &aux);
		r.rax = (uint32_t)tsc;
		r.rdx = tsc >> 32;
		r.rcx = (uint32_t)aux;
		break;
	}
	case EMU_XGETBV: {
		struct kvm_xcrs x;
		uint64_t val = 0;
		int found = 0;

		if (!(s.cr4 & CR4_OSXSAVE))
			return emu_inject(v->fd, 6, 0, 0); /* #UD, as the CPU would */
		if (ioctl(v->fd, KVM_GET_XCRS, &x) < 0)
			return -errno;
		for (uint32_t i = 0; i < x.nr_xcrs; i++)
			if (x.xcrs[i].xcr == (uint32_t)r.rcx) {
				val = x.xcrs[i].value;
				found = 1;
			}
		if (!found && (uint32_t)r.rcx != 0)
			return emu_inject(v->fd, 13, 1, 0); /* #GP(0) */
		r.rax = (uint32_t)val;
		r.rdx = val >> 32;
		break;
	}
	case EMU_CLAC:
	case EMU_STAC:
		if (cpl != 0)
			return emu_inject(v->fd, 6, 0, 0);
		if (in.kind == EMU_STAC)
			r.rflags |= RFLAGS_AC;
		else
			r.rflags &= ~RFLAGS_AC;
		break;
	case EMU_POPCNT: {
		uint64_t src, mask = in.opsize == 8 ? ~0ull : (1ull << (in.opsize * 8)) - 1;
		int reg = ((in.modrm >> 3) & 7) | ((in.rex & 4) << 1);

		if (in.mem) {
			uint64_t gva = emu_mem_addr(&in, &r, &s, long_mode);

			src = 0;
			if (pgwalk_read(v->env->gm, &mode, gva, &src, (size_t)in.opsize))
				return emu_inject(v->fd, 14, 1, cpl == 3 ? 4 : 0); /* #PF, as a read fault */
		} else {
			src = *emu_reg(&r, (in.modrm & 7) | ((in.rex & 1) << 3));
		}
		src &= mask;
		if (in.opsize == 2)
			*emu_reg(&r, reg) = (*emu_reg(&r, reg) & ~0xffffull) | (uint64_t)__builtin_popcountll(src);
		else
			*emu_reg(&r, reg) = (uint64_t)__builtin_popcountll(src); /* 32-bit writes zero-extend */
		r.rflags &= ~(RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF);
		if (!src)
			r.rflags |= RFLAGS_ZF;
		break;
	}
	case EMU_X87:
		ret = emu_x87(v->fd, &in, &r);
		if (ret)
			return ret;
		break;
	case EMU_XSAVE:
		if (s.cr4 & CR4_OSXSAVE)
			return -ENOTSUP; /* real XSAVE state handling is not emulated */
		return emu_inject(v->fd, 6, 0, 0); /* #UD: XSAVE features not enabled */
	case EMU_CMPXCHG16B: {
		uint64_t gva = emu_mem_addr(&in, &r, &s, long_mode), gpa;
		unsigned __int128 *p, expected, desired, old;

		if (gva & 15)
			return emu_inject(v->fd, 13, 1, 0); /* #GP(0): m128 must be 16-byte aligned */
		if (pgwalk_translate(v->env->gm, &mode, gva, PGWALK_WRITE | (cpl == 3 ? PGWALK_USER : 0), &gpa))
			return emu_inject(v->fd, 14, 1, (cpl == 3 ? 4u : 0u) | 2u); /* #PF on the write */
		p = gmem_ptr(v->env->gm, gpa, 16);
		if (!p)
			return -EFAULT;
		/* Atomic against the other vCPUs, which run while this one is in user space. */
		expected = (unsigned __int128)r.rdx << 64 | r.rax;
		desired = (unsigned __int128)r.rcx << 64 | r.rbx;
		/* __sync with -mcx16 is inlined as lock cmpxchg16b (the __atomic form calls libatomic). */
		old = __sync_val_compare_and_swap(p, expected, desired);
		if (old == expected) {
			r.rflags |= RFLAGS_ZF;
		} else {
			r.rflags &= ~RFLAGS_ZF;
			r.rax = (uint64_t)old;
			r.rdx = (uint64_t)(old >> 64);
		}
		break;
	}
	default:
		return -ENOTSUP;
	}
	r.rip += in.len;
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}
