namespace Autograd.Kernels;

internal static unsafe partial class GemmDriver<T, TV, TOps>
{
    /// <summary>
    /// Packs op(A)[i0 .. i0+mcb, p0 .. p0+kcb] into MR-tall panels: panel q holds rows i0+q·MR.., element (r, p)
    /// at dst[q·MR·kcb + p·MR + r]. Rows of a partial last panel are left unwritten: the kernel instance for
    /// that row count never reads them.
    /// </summary>
    private static void PackA(in GemmProblem<T> p, T* dst, int i0, int mcb, int p0, int kcb)
    {
        for (int q = 0; q < mcb; q += MR)
        {
            int rows = Math.Min(MR, mcb - q);
            T* panel = dst + (nint)q * kcb;
            int i = i0 + q;
            if (p.TransA)
            {
                // op(A)(i, p) = a[p·m + i]: each k-step is a contiguous run of rows.
                T* src = p.A + (nint)p0 * p.M + i;
                for (int s = 0; s < kcb; s++, src += p.M, panel += MR)
                    for (int r = 0; r < rows; r++) panel[r] = src[r];
            }
            else if (rows == MR)
            {
                // op(A)(i, p) = a[i·k + p]: six row streams interleaved.
                nint k = p.K;
                T* s0 = p.A + (nint)i * k + p0;
                for (int s = 0; s < kcb; s++, panel += MR)
                {
                    panel[0] = s0[s];
                    panel[1] = s0[k + s];
                    panel[2] = s0[2 * k + s];
                    panel[3] = s0[3 * k + s];
                    panel[4] = s0[4 * k + s];
                    panel[5] = s0[5 * k + s];
                }
            }
            else
            {
                for (int r = 0; r < rows; r++)
                {
                    T* src = p.A + (nint)(i + r) * p.K + p0;
                    for (int s = 0; s < kcb; s++) panel[s * MR + r] = src[s];
                }
            }
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
                // op(B)(p, j) = b[j·k + p]: read each stored row of B contiguously, scatter into its column.
                nint k = p.K;
                if (cols < nr) new Span<T>(panel, kcb * nr).Clear();
                for (int c = 0; c < cols; c++)
                {
                    T* src = p.B + (j + c) * k + p0;
                    T* d = panel + c;
                    for (int s = 0; s < kcb; s++) d[s * nr] = src[s];
                }
            }
        }
    }
}
