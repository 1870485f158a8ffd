using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Autograd.Backends.Cpu;

/// <summary>One GEMM call with its operands pinned: C (m×n) (+)= op(A) · op(B), all row-major.</summary>
internal readonly unsafe struct GemmProblem<T> where T : unmanaged
{
    public readonly T* A, B, C;
    public readonly int M, N, K;
    public readonly bool TransA, TransB, Overwrite;

    /// <summary>op(B) already packed by <see cref="GemmDriver{T, TV, TOps}.PackAllB"/>, or null.</summary>
    public readonly T* PackedB;

    public GemmProblem(bool transA, bool transB, int m, int n, int k, T* a, T* b, T* c, bool overwrite, T* packedB = null)
    {
        TransA = transA; TransB = transB; M = m; N = n; K = k; A = a; B = b; C = c; Overwrite = overwrite; PackedB = packedB;
    }

    /// <summary>Distance between consecutive rows of op(A) (A's row stride, or 1 when A is stored transposed).</summary>
    public nint ARowStride => TransA ? 1 : K;
    /// <summary>Distance between consecutive k-steps within a row of op(A).</summary>
    public nint AColStride => TransA ? M : 1;
}

/// <summary>
/// The blocked and the direct (unpacked) GEMM drivers for one element type and vector width.
/// Blocked follows the usual five-loop structure: columns in blocks of <see cref="GemmOptions.Nc"/>, k in blocks of at most
/// <see cref="GemmOptions.KcMax"/> (B block packed into NR-wide panels), rows in blocks of <see cref="GemmOptions.Mc"/> (A block packed
/// into MR-tall panels), then the micro-kernel over every (MR × NR) tile. Transposes are absorbed by the packing.
/// </summary>
internal static unsafe partial class GemmDriver<T, TV, TOps>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TV : struct
    where TOps : IGemmVector<TV, T>
{
    public static int MR => TOps.Rows;
    public static int NR => 2 * TOps.Count;

    // Block sizes (see GemmOptions): the packed A block (Mc × kc) stays in L2, a B micro-panel (kc × NR) in
    // L1, the B block (kc × Nc) in L2/L3.
    private static int KcMax => Gemm.Options.KcMax;
    private static int Mc => Gemm.Options.Mc;
    private static int Nc => Gemm.Options.Nc;
    private const int AlignBytes = 64;

    /// <summary>k-block length used for a given k. Depends on k only, so every element's summation order does too.</summary>
    public static int KBlock(int k)
    {
        int blocks = (k + KcMax - 1) / KcMax;
        return (k + blocks - 1) / blocks;
    }

    /// <summary>Computes rows [i0, i1) × columns [j0, j1) of C with packed panels, single-threaded.</summary>
    public static void Blocked(in GemmProblem<T> p, int i0, int i1, int j0, int j1)
    {
        if (i0 >= i1 || j0 >= j1) return;
        int k = p.K, n = p.N;
        int kc = KBlock(k);
        int nr = NR;
        // Equal blocks no larger than Nc / Mc, so a range just over a block size does not leave a sliver block
        // that re-streams all of B (or A) for a few rows (or columns).
        int ncStep = Balanced(j1 - j0, Nc, nr), mcStep = Balanced(i1 - i0, Mc, MR);
        int ncMax = ncStep, mcMax = mcStep;
        int pad = AlignBytes / sizeof(T);
        bool prepacked = p.PackedB != null;
        int nPad = RoundUp(n, nr);
        T[] bufB = ArrayPool<T>.Shared.Rent(prepacked ? 1 : kc * ncMax + pad);
        T[] bufA = ArrayPool<T>.Shared.Rent(kc * mcMax + pad);
        try
        {
            fixed (T* rawB = bufB)
            fixed (T* rawA = bufA)
            {
                T* bp = Align(rawB), ap = Align(rawA);
                for (int jc = j0; jc < j1; jc += ncStep)
                {
                    int ncb = Math.Min(ncStep, j1 - jc);
                    for (int pc = 0; pc < k; pc += kc)
                    {
                        int kcb = Math.Min(kc, k - pc);
                        if (prepacked) bp = p.PackedB + (nint)pc * nPad + (nint)jc * kcb;
                        else PackB(p, bp, pc, kcb, jc, ncb);
                        bool overwrite = p.Overwrite && pc == 0;
                        for (int ic = i0; ic < i1; ic += mcStep)
                        {
                            int mcb = Math.Min(mcStep, i1 - ic);
                            PackA(p, ap, ic, mcb, pc, kcb);
                            var (ars, acs) = PackedAStrides(p, kcb);
                            for (int jr = 0; jr < ncb; jr += nr)
                            {
                                int ncols = Math.Min(nr, ncb - jr);
                                T* bPanel = bp + (nint)jr * kcb;
                                T* cCol = p.C + (nint)ic * n + jc + jr;
                                for (int ir = 0; ir < mcb; ir += MR)
                                {
                                    Tile(Math.Min(MR, mcb - ir), ncols, kcb, ap + (nint)ir * kcb, ars, acs,
                                        bPanel, nr, cCol + (nint)ir * n, n, overwrite);
                                }
                            }
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(bufA);
            ArrayPool<T>.Shared.Return(bufB);
        }
    }

    /// <summary>
    /// Small problems: A is read in place (either layout), B in place when it is not transposed and the panel
    /// is full width; otherwise one NR-wide panel of B at a time is packed into a small scratch buffer.
    /// No k blocking, so there is no packing of A and no repeated pass over C.
    /// </summary>
    public static void Direct(in GemmProblem<T> p)
    {
        // Only where the unpacked path runs the same micro-kernel over the same k order (not the dot-product
        // path for A·Bᵀ nor the single-row path): a cache hit must never change a result.
        if (p.PackedB != null && p.K <= KcMax && p.M > 1 && !(p.TransB && !p.TransA))
        {
            DirectPacked(p);
            return;
        }
        if (p.TransB && !p.TransA)
        {
            DirectDot(p);
            return;
        }
        if (p.M == 1 && !p.TransB)
        {
            DirectRow(p);
            return;
        }
        int m = p.M, n = p.N, k = p.K, nr = NR;
        nint ars = p.ARowStride, acs = p.AColStride;
        bool needScratch = p.TransB || n % nr != 0;
        int pad = AlignBytes / sizeof(T);
        T[]? scratch = needScratch ? ArrayPool<T>.Shared.Rent(k * nr + pad) : null;
        try
        {
            fixed (T* raw = scratch)
            {
                T* sp = needScratch ? Align(raw) : null;
                for (int j0 = 0; j0 < n; j0 += nr)
                {
                    int ncols = Math.Min(nr, n - j0);
                    T* bPanel;
                    nint ldb;
                    if (!p.TransB && ncols == nr)
                    {
                        bPanel = p.B + j0;
                        ldb = n;
                    }
                    else
                    {
                        PackB(p, sp, 0, k, j0, ncols);
                        bPanel = sp;
                        ldb = nr;
                    }
                    for (int i0 = 0; i0 < m; i0 += MR)
                    {
                        Tile(Math.Min(MR, m - i0), ncols, k, p.A + i0 * ars, ars, acs,
                            bPanel, ldb, p.C + (nint)i0 * n + j0, n, p.Overwrite);
                    }
                }
            }
        }
        finally
        {
            if (scratch is not null) ArrayPool<T>.Shared.Return(scratch);
        }
    }

    /// <summary>Small problems with op(B) packed ahead of time (one k-block): A read in place, every panel ready.</summary>
    private static void DirectPacked(in GemmProblem<T> p)
    {
        int m = p.M, n = p.N, k = p.K, nr = NR;
        nint ars = p.ARowStride, acs = p.AColStride;
        for (int j0 = 0; j0 < n; j0 += nr)
        {
            int ncols = Math.Min(nr, n - j0);
            T* bPanel = p.PackedB + (nint)j0 * k;
            for (int i0 = 0; i0 < m; i0 += MR)
                Tile(Math.Min(MR, m - i0), ncols, k, p.A + i0 * ars, ars, acs, bPanel, nr, p.C + (nint)i0 * n + j0, n, p.Overwrite);
        }
    }

    /// <summary>Elements <see cref="PackAllB"/> writes for a k × n op(B).</summary>
    public static int PackedLength(int k, int n) => k * RoundUp(n, NR);

    /// <summary>
    /// Packs all of op(B) the way <see cref="Blocked"/> would block by block: for each k-block (at row pc of
    /// op(B)), NR-wide panels of every column, the block starting at dst + pc·roundUp(n, NR).
    /// </summary>
    public static void PackAllB(in GemmProblem<T> p, T* dst)
    {
        int k = p.K, kc = KBlock(k), nPad = RoundUp(p.N, NR);
        for (int pc = 0; pc < k; pc += kc)
            PackB(p, dst + (nint)pc * nPad, pc, Math.Min(kc, k - pc), 0, p.N);
    }

    /// <summary>A · Bᵀ with A not transposed: every element is a dot product of two contiguous rows; no packing.</summary>
    private static void DirectDot(in GemmProblem<T> p)
    {
        int m = p.M, n = p.N, k = p.K;
        for (int i = 0; i < m; i++)
        {
            T* ai = p.A + (nint)i * k;
            T* ci = p.C + (nint)i * n;
            int j = 0;
            for (; j + 4 <= n; j += 4)
                GemmMicroKernel.Dot4<T, TV, TOps>(k, ai, p.B + (nint)j * k, k, ci + j, p.Overwrite);
            for (; j < n; j++)
                GemmMicroKernel.Dot1<T, TV, TOps>(k, ai, p.B + (nint)j * k, ci + j, p.Overwrite);
        }
    }

    /// <summary>A single row of C (B not transposed): up to eight vectors of C per pass, scalar for the last columns.</summary>
    private static void DirectRow(in GemmProblem<T> p)
    {
        int n = p.N, k = p.K, w = TOps.Count;
        nint acs = p.AColStride;
        int vectors = n / w, j = 0;
        while (vectors > 0)
        {
            int v = Math.Min(8, vectors);
            GemmMicroKernel.RowDispatch<T, TV, TOps>(v, k, p.A, acs, p.B + j, n, p.C + j, p.Overwrite);
            j += v * w;
            vectors -= v;
        }
        for (; j < n; j++)
        {
            T s = T.Zero;
            T* bj = p.B + j;
            for (int q = 0; q < k; q++) s += p.A[q * acs] * bj[(nint)q * n];
            p.C[j] = p.Overwrite ? s : p.C[j] + s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(int rows, int cols, int kc, T* a, nint ars, nint acs, T* b, nint ldb, T* c, nint ldc, bool overwrite)
    {
        if (cols == NR) GemmMicroKernel.Dispatch<T, TV, TOps>(rows, kc, a, ars, acs, b, ldb, c, ldc, overwrite);
        else EdgeTile(rows, cols, kc, a, ars, acs, b, ldb, c, ldc, overwrite);
    }

    /// <summary>A tile narrower than NR: the kernel writes a full-width scratch tile, the valid columns are merged.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void EdgeTile(int rows, int cols, int kc, T* a, nint ars, nint acs, T* b, nint ldb, T* c, nint ldc, bool overwrite)
    {
        int nr = NR;
        T* tile = stackalloc T[GemmMicroKernel.MaxRows * nr];
        GemmMicroKernel.Dispatch<T, TV, TOps>(rows, kc, a, ars, acs, b, ldb, tile, nr, overwrite: true);
        for (int r = 0; r < rows; r++)
        {
            T* src = tile + r * nr;
            T* dst = c + r * ldc;
            if (overwrite)
                for (int j = 0; j < cols; j++) dst[j] = src[j];
            else
                for (int j = 0; j < cols; j++) dst[j] += src[j];
        }
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    /// <summary>Block length: length split into the fewest blocks of at most max (rounded to multiple), equally.</summary>
    private static int Balanced(int length, int max, int multiple)
    {
        int blocks = (length + max - 1) / max;
        return Math.Min(RoundUp((length + blocks - 1) / blocks, multiple), RoundUp(max, multiple));
    }

    private static T* Align(T* p) => (T*)(((nint)p + (AlignBytes - 1)) & ~(nint)(AlignBytes - 1));
}
