using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Autograd.Backends.Cpu;

internal static unsafe partial class GemmDriver<T, TV, TOps>
{
    /// <summary>
    /// Packs op(A)[i0 .. i0+mcb, p0 .. p0+kcb] into MR-tall panels of MR·kcb elements each (panel q holds rows
    /// i0+q·MR..). When A is stored row-major the panel keeps rows contiguous (element (r, p) at r·kcb + p: plain
    /// vectorised copies; the kernel reads six sequential streams); when A is stored transposed it is interleaved
    /// (element (r, p) at p·MR + r). <see cref="PackedAStrides"/> gives the matching kernel strides. Rows of a partial
    /// last panel are left unwritten: the kernel instance for that row count never reads them.
    /// </summary>
    private static void PackA(in GemmProblem<T> p, T* dst, int i0, int mcb, int p0, int kcb)
    {
        if (p.TransA)
        {
            PackATransposed(p, dst, i0, mcb, p0, kcb);
            return;
        }
        nint k = p.K;
        T* src = p.A + (nint)i0 * k + p0;
        for (int r = 0; r < mcb; r++, src += k, dst += kcb)
            new ReadOnlySpan<T>(src, kcb).CopyTo(new Span<T>(dst, kcb));
    }

    /// <summary>(row stride, k stride) of a panel written by <see cref="PackA"/>.</summary>
    private static (nint Rows, nint Steps) PackedAStrides(in GemmProblem<T> p, int kcb) => p.TransA ? (1, MR) : (kcb, 1);

    /// <summary>
    /// op(A)(i, p) = a[p·m + i]: each k-step of the block is one contiguous run of mcb elements; reading it in order
    /// and dealing it out to the panels keeps the reads sequential.
    /// </summary>
    private static void PackATransposed(in GemmProblem<T> p, T* dst, int i0, int mcb, int p0, int kcb)
    {
        int mr = MR, fullPanels = mcb / mr, tail = mcb - fullPanels * mr;
        nint panelSize = (nint)mr * kcb;
        T* src = p.A + (nint)p0 * p.M + i0;
        if (mr == 8 && sizeof(T) == 4 && Vector256.IsHardwareAccelerated)
        {
            // A float panel's 8 elements of one k-step are exactly one Vector256.
            for (int s = 0; s < kcb; s++, src += p.M)
            {
                T* d = dst + s * mr;
                T* q = src;
                for (int panel = 0; panel < fullPanels; panel++, d += panelSize, q += mr)
                    Vector256.Load((float*)q).Store((float*)d);
                for (int r = 0; r < tail; r++) d[r] = q[r];
            }
            return;
        }
        // With 6-row panels an 8-wide copy moves a panel's six elements plus two that land in the next k-step's
        // slots, which that step then overwrites. Not for the last k-step (it would spill into the next panel) nor
        // for a panel whose source run has fewer than 8 elements left (it would read past the block, possibly past A).
        bool wide = mr == 6 && sizeof(T) == 4 && Vector256.IsHardwareAccelerated;
        int widePanels = wide ? (mcb - 8) / mr + 1 : 0;
        if (mcb < 8) widePanels = 0;
        widePanels = Math.Min(widePanels, fullPanels);
        for (int s = 0; s < kcb; s++, src += p.M)
        {
            T* d = dst + s * mr;
            T* q = src;
            int panel = 0;
            if (s < kcb - 1)
            {
                for (; panel < widePanels; panel++, d += panelSize, q += mr)
                    Vector256.Load((float*)q).Store((float*)d);
            }
            if (mr == 6)
            {
                for (; panel < fullPanels; panel++, d += panelSize, q += 6)
                {
                    d[0] = q[0]; d[1] = q[1]; d[2] = q[2]; d[3] = q[3]; d[4] = q[4]; d[5] = q[5];
                }
            }
            for (; panel < fullPanels; panel++, d += panelSize, q += mr)
                for (int r = 0; r < mr; r++) d[r] = q[r];
            for (int r = 0; r < tail; r++) d[r] = q[r];
        }
    }

    /// <summary>
    /// Packs op(B)[p0 .. p0+kcb, j0 .. j0+ncb] into NR-wide panels: panel q holds columns j0+q·NR.., element
    /// (p, j) at dst[q·NR·kcb + p·NR + j]. Columns past ncb in the last panel are zero so the kernel can run
    /// full width; their results are discarded.
    /// </summary>
    private static void PackB(in GemmProblem<T> p, T* dst, int p0, int kcb, int j0, int ncb)
    {
        int nr = NR, w = TOps.Count;
        int q0 = 0;
        if (!p.TransB && ncb >= nr)
        {
            // Full panels row by row: each k-step of B is read as one sequential run and dealt out to the panels
            // (each written sequentially too). Panel by panel instead would read NR columns from every row in turn:
            // a 4 KB-strided walk over kcb rows per panel, one page per row.
            nint n = p.N;
            int full = ncb / nr;
            nint panelSize = (nint)nr * kcb;
            T* src = p.B + (nint)p0 * n + j0;
            for (int s = 0; s < kcb; s++, src += n)
            {
                T* d = dst + (nint)s * nr;
                T* r = src;
                for (int q = 0; q < full; q++, d += panelSize, r += nr)
                {
                    TOps.Store(d, TOps.Load(r));
                    TOps.Store(d + w, TOps.Load(r + w));
                }
            }
            q0 = full * nr;
        }
        for (int q = q0; q < ncb; q += nr)
        {
            int cols = Math.Min(nr, ncb - q);
            T* panel = dst + (nint)q * kcb;
            int j = j0 + q;
            if (!p.TransB)
            {
                // op(B)(p, j) = b[p·n + j]: one contiguous run per k-step.
                nint n = p.N;
                T* src = p.B + (nint)p0 * n + j;
                if (cols == nr)
                {
                    for (int s = 0; s < kcb; s++, src += n, panel += nr)
                    {
                        TOps.Store(panel, TOps.Load(src));
                        TOps.Store(panel + w, TOps.Load(src + w));
                    }
                }
                else
                {
                    new Span<T>(panel, kcb * nr).Clear();
                    for (int s = 0; s < kcb; s++, src += n, panel += nr)
                        for (int c = 0; c < cols; c++) panel[c] = src[c];
                }
            }
            else
            {
                // op(B)(p, j) = b[j·k + p]: the panel is a transpose of cols source rows. Reading one element from
                // each of the cols rows per k-step thrashes L1 when k·sizeof(T) is a multiple of 4 KB (every row maps
                // to the same cache set), so the block is walked in chunks of 16 k-steps (a cache line of floats per
                // row), and within a chunk as 8×8 register transposes where AVX is available.
                nint k = p.K;
                if (cols < nr) new Span<T>(panel, kcb * nr).Clear();
                T* src = p.B + j * k + p0;
                bool avx = typeof(T) == typeof(float) && Avx.IsSupported;
                for (int s0 = 0; s0 < kcb; s0 += 16)
                {
                    int steps = Math.Min(16, kcb - s0);
                    int c = 0;
                    if (avx && steps == 16)
                    {
                        for (; c + 8 <= cols; c += 8)
                        {
                            float* r = (float*)(src + c * k + s0);
                            float* d = (float*)(panel + s0 * nr + c);
                            Transpose8x8(r, k, d, nr);
                            Transpose8x8(r + 8, k, d + 8 * nr, nr);
                        }
                    }
                    for (; c < cols; c++)
                    {
                        T* r = src + c * k + s0;
                        T* d = panel + s0 * nr + c;
                        for (int s = 0; s < steps; s++) d[s * nr] = r[s];
                    }
                }
            }
        }
    }

    /// <summary>
    /// dst[i·ldd + r] = src[r·lds + i] for an 8×8 float block: the usual unpack / shuffle / lane-permute transpose
    /// (8 loads, 24 shuffles, 8 stores instead of 64 scalar moves).
    /// </summary>
    private static void Transpose8x8(float* src, nint lds, float* dst, nint ldd)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + lds);
        Vector256<float> r2 = Avx.LoadVector256(src + 2 * lds), r3 = Avx.LoadVector256(src + 3 * lds);
        Vector256<float> r4 = Avx.LoadVector256(src + 4 * lds), r5 = Avx.LoadVector256(src + 5 * lds);
        Vector256<float> r6 = Avx.LoadVector256(src + 6 * lds), r7 = Avx.LoadVector256(src + 7 * lds);
        // Interleave pairs of rows, then pairs of pairs: within each 128-bit lane, t·· holds 4×4 transposed quarters.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        // Rows 0–3 supply the low 128 bits of each output, rows 4–7 the high.
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }
}
