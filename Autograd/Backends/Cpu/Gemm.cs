using System.Numerics;
using System.Runtime.Intrinsics;

namespace Autograd.Backends.Cpu;

/// <summary>Instruction set the GEMM runs with; <see cref="Auto"/> picks the widest accelerated one.</summary>
internal enum GemmIsa { Auto, Vector512, Vector256, Vector128, Scalar }

/// <summary>
/// Row-major general matrix multiply, C (m×n) (+)= op(A) · op(B), with op = identity or transpose,
/// so backward never materialises a transpose. The single place matmul speed is decided.
/// </summary>
/// <remarks>
/// Small problems run a direct kernel on the operands in place; larger ones pack A and B into cache-sized
/// panels and run an MR×(2 vectors) register-blocked FMA micro-kernel (8×32 for float, 8×16 for double with
/// AVX-512; 6 rows with narrower vectors). Above <see cref="GemmOptions.ParallelThreshold"/> the rows or columns are split across up to
/// <see cref="Tensor.NumThreads"/> threads. Results are deterministic: each element's summation order depends only on
/// (m, n, k) and the instruction set, never on the thread count.
/// </remarks>
internal static class Gemm
{
    /// <summary>The tuning in force; replace the whole object to change it (benchmarks and tests do).</summary>
    public static GemmOptions Options
    {
        get => s_options;
        set => s_options = value ?? throw new ArgumentNullException(nameof(value));
    }

    private static GemmOptions s_options = GemmOptions.Default;

    /// <summary>The instruction set a call would use now.</summary>
    internal static GemmIsa EffectiveIsa
    {
        get
        {
            GemmIsa isa = Options.Isa;
            if ((isa is GemmIsa.Auto or GemmIsa.Vector512) && Vector512.IsHardwareAccelerated) return GemmIsa.Vector512;
            if ((isa is GemmIsa.Auto or GemmIsa.Vector512 or GemmIsa.Vector256) && Vector256.IsHardwareAccelerated) return GemmIsa.Vector256;
            if (isa != GemmIsa.Scalar && Vector128.IsHardwareAccelerated) return GemmIsa.Vector128;
            return GemmIsa.Scalar;
        }
    }

    /// <summary>
    /// C (m×n) = op(A) · op(B), or C += op(A) · op(B) when <paramref name="accumulate"/>.
    /// op(A) is m×k, op(B) is k×n; all storage is dense row-major. C must not overlap A or B.
    /// </summary>
    /// <param name="transA">A is stored (k×m) and used transposed; otherwise stored (m×k).</param>
    /// <param name="transB">B is stored (n×k) and used transposed; otherwise stored (k×n).</param>
    /// <param name="accumulate">Add into C instead of overwriting it.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative dimension.</exception>
    /// <exception cref="ArgumentException">A span shorter than its matrix (m·k, k·n or m·n elements).</exception>
    /// <exception cref="NotSupportedException">T is neither float nor double.</exception>
    /// <param name="packCache">When given, op(B) is packed once into it and reused by later calls with the same B (see <see cref="GemmPackCache{T}"/>).</param>
    public static unsafe void Multiply<T>(bool transA, bool transB, int m, int n, int k,
        ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> c, bool accumulate, GemmPackCache<T>? packCache = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"Gemm.Multiply: dimensions must be non-negative, got m={m}, n={n}, k={k}.");
        if (a.Length < (long)m * k)
            throw new ArgumentException($"Gemm.Multiply: A needs {(long)m * k} elements for m={m}, k={k} (transA={transA}), got {a.Length}.", nameof(a));
        if (b.Length < (long)k * n)
            throw new ArgumentException($"Gemm.Multiply: B needs {(long)k * n} elements for k={k}, n={n} (transB={transB}), got {b.Length}.", nameof(b));
        if (c.Length < (long)m * n)
            throw new ArgumentException($"Gemm.Multiply: C needs {(long)m * n} elements for m={m}, n={n}, got {c.Length}.", nameof(c));
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"Gemm.Multiply: element type {typeof(T).Name} is not supported (float or double).");

        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            if (!accumulate) c.Slice(0, m * n).Clear();
            return;
        }

        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
        {
            var problem = new GemmProblem<T>(transA, transB, m, n, k, pa, pb, pc, overwrite: !accumulate);
            switch (EffectiveIsa)
            {
                case GemmIsa.Vector512: Run<T, Vector512<T>, GemmVector512<T>>(WithPacked<T, Vector512<T>, GemmVector512<T>>(problem, packCache)); break;
                case GemmIsa.Vector256: Run<T, Vector256<T>, GemmVector256<T>>(WithPacked<T, Vector256<T>, GemmVector256<T>>(problem, packCache)); break;
                case GemmIsa.Vector128: Run<T, Vector128<T>, GemmVector128<T>>(WithPacked<T, Vector128<T>, GemmVector128<T>>(problem, packCache)); break;
                default: GemmScalar.Run(problem); break;
            }
        }
    }

    /// <summary>The problem with op(B) taken from (or packed into) the cache, when the cache says it pays.</summary>
    private static unsafe GemmProblem<T> WithPacked<T, TV, TOps>(in GemmProblem<T> p, GemmPackCache<T>? cache)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : struct
        where TOps : IGemmVector<TV, T>
    {
        if (cache is null) return p;
        var key = new GemmPackKey(p.TransB, p.K, p.N, EffectiveIsa, Options.KcMax);
        T* packed = cache.Lookup(key, GemmDriver<T, TV, TOps>.PackedLength(p.K, p.N), out bool fill);
        if (packed == null) return p;
        if (fill) GemmDriver<T, TV, TOps>.PackAllB(p, packed);
        return new GemmProblem<T>(p.TransA, p.TransB, p.M, p.N, p.K, p.A, p.B, p.C, p.Overwrite, packed);
    }

    private static void Run<T, TV, TOps>(GemmProblem<T> p)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : struct
        where TOps : IGemmVector<TV, T>
    {
        long work = (long)p.M * p.N * p.K;
        var options = Options;
        if (work < options.DirectThreshold)
        {
            GemmDriver<T, TV, TOps>.Direct(p);
            return;
        }

        int mr = GemmDriver<T, TV, TOps>.MR, nr = GemmDriver<T, TV, TOps>.NR;
        int rowTiles = (p.M + mr - 1) / mr, colTiles = (p.N + nr - 1) / nr;
        bool splitRows = rowTiles >= colTiles;
        int parts = work < options.ParallelThreshold ? 1 : Math.Min(CpuParallel.Threads, splitRows ? rowTiles : colTiles);
        if (parts <= 1)
        {
            GemmDriver<T, TV, TOps>.Blocked(p, 0, p.M, 0, p.N);
            return;
        }

        RunParallel<T, TV, TOps>(p, parts, splitRows, splitRows ? rowTiles : colTiles);
    }

    private static void RunParallel<T, TV, TOps>(GemmProblem<T> p, int parts, bool splitRows, int tiles)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : struct
        where TOps : IGemmVector<TV, T>
    {
        var work = GemmWork<T, TV, TOps>.Instance ??= new GemmWork<T, TV, TOps>();
        work.Set(p, parts, splitRows, tiles);
        CpuParallel.Run(work, parts);
    }

    /// <summary>Whole tiles per part, so every part runs exactly the arithmetic the single-threaded call would.</summary>
    private sealed class GemmWork<T, TV, TOps> : IParallelWork
        where T : unmanaged, IFloatingPointIeee754<T>
        where TV : struct
        where TOps : IGemmVector<TV, T>
    {
        [ThreadStatic] public static GemmWork<T, TV, TOps>? Instance;
        private GemmProblem<T> _p;
        private int _parts, _tiles;
        private bool _splitRows;

        public void Set(GemmProblem<T> p, int parts, bool splitRows, int tiles)
        {
            _p = p; _parts = parts; _splitRows = splitRows; _tiles = tiles;
        }

        public void RunPart(int t)
        {
            int mr = GemmDriver<T, TV, TOps>.MR, nr = GemmDriver<T, TV, TOps>.NR;
            int lo = (int)((long)_tiles * t / _parts), hi = (int)((long)_tiles * (t + 1) / _parts);
            if (_splitRows)
                GemmDriver<T, TV, TOps>.Blocked(_p, lo * mr, Math.Min(_p.M, hi * mr), 0, _p.N);
            else
                GemmDriver<T, TV, TOps>.Blocked(_p, 0, _p.M, lo * nr, Math.Min(_p.N, hi * nr));
        }
    }
}

/// <summary>GEMM tuning: work thresholds, cache blocking and the instruction set. Immutable; results depend on <see cref="KcMax"/> and <see cref="Isa"/> only.</summary>
internal sealed record GemmOptions
{
    public static readonly GemmOptions Default = new();

    /// <summary>m·n·k (multiply-adds) at or above which a call is split across threads.</summary>
    public long ParallelThreshold { get; init; } = 1L << 22;

    /// <summary>m·n·k below which the direct (unpacked) path runs; packing would cost more than it saves.</summary>
    public long DirectThreshold { get; init; } = 1L << 18;

    /// <summary>Upper bound on the k-block; k is split into equal blocks so the last one is not tiny.</summary>
    public int KcMax { get; init; } = 384;

    /// <summary>Rows of A packed per block (a multiple of the micro-kernel's 6 and 8 rows).</summary>
    public int Mc { get; init; } = 120;

    /// <summary>Columns of B packed per block.</summary>
    public int Nc { get; init; } = 1024;

    /// <summary>Forces an instruction set (tests use it to cover the fallbacks); Auto by default.</summary>
    public GemmIsa Isa { get; init; } = GemmIsa.Auto;
}

/// <summary>Plain loops for hardware without SIMD acceleration; each element summed in increasing p.</summary>
internal static unsafe class GemmScalar
{
    public static void Run<T>(in GemmProblem<T> p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = p.M, n = p.N, k = p.K;
        nint ars = p.ARowStride, acs = p.AColStride;
        nint bks = p.TransB ? 1 : n, bjs = p.TransB ? k : 1;
        for (int i = 0; i < m; i++)
        {
            T* ai = p.A + i * ars;
            T* ci = p.C + (nint)i * n;
            for (int j = 0; j < n; j++)
            {
                T* bj = p.B + j * bjs;
                T s = T.Zero;
                for (int q = 0; q < k; q++) s += ai[q * acs] * bj[q * bks];
                ci[j] = p.Overwrite ? s : ci[j] + s;
            }
        }
    }
}
