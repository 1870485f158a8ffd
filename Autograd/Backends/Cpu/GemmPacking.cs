using System.Runtime.Intrinsics;

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
        int fullPanels = mcb / MR, tail = mcb - fullPanels * MR;
        nint panelSize = (nint)MR * kcb;
        // An 8-wide copy moves a panel's six elements plus two that land in the next k-step's slots, which that
        // step then overwrites. Not for the last k-step (it would spill into the next panel) nor for a panel whose
        // source run has fewer than 8 elements left (it would read past the block, possibly past A).
        bool wide = sizeof(T) == 4 && Vector256.IsHardwareAccelerated;
        int widePanels = wide ? (mcb - 8) / MR + 1 : 0;
        if (mcb < 8) widePanels = 0;
        widePanels = Math.Min(widePanels, fullPanels);
        T* src = p.A + (nint)p0 * p.M + i0;
        for (int s = 0; s < kcb; s++, src += p.M)
        {
            T* d = dst + s * MR;
            T* q = src;
            int panel = 0;
            if (s < kcb - 1)
            {
                for (; panel < widePanels; panel++, d += panelSize, q += MR)
                    Vector256.Load((float*)q).Store((float*)d);
            }
            for (; panel < fullPanels; panel++, d += panelSize, q += MR)
            {
                // MR is 6.
                d[0] = q[0]; d[1] = q[1]; d[2] = q[2]; d[3] = q[3]; d[4] = q[4]; d[5] = q[5];
            }
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
        for (int q = 0; q < ncb; q += nr)
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
                // op(B)(p, j) = b[j·k + p].
                nint k = p.K;
                if (cols < nr) new Span<T>(panel, kcb * nr).Clear();
                // k-step outer: each panel row is written contiguously while the cols source rows are each read
                // sequentially (cols cache lines live at once); far cheaper than a strided scatter per column.
                T* src = p.B + j * k + p0;
                for (int s = 0; s < kcb; s++, panel += nr)
                {
                    T* r = src + s;
                    int c = 0;
                    for (; c + 4 <= cols; c += 4, r += 4 * k)
                    {
                        panel[c] = r[0];
                        panel[c + 1] = r[k];
                        panel[c + 2] = r[2 * k];
                        panel[c + 3] = r[3 * k];
                    }
                    for (; c < cols; c++, r += k) panel[c] = r[0];
                }
            }
        }
    }
}
