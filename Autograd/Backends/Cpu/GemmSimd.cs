using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Autograd.Backends.Cpu;

/// <summary>
/// The handful of vector operations the GEMM micro-kernel needs, abstracted over the vector width so a
/// single kernel source serves Vector512, Vector256 and Vector128. Implementations are structs, so the
/// JIT specialises and inlines every call; there is no interface dispatch at run time.
/// </summary>
internal unsafe interface IGemmVector<TV, T>
    where TV : struct
    where T : unmanaged
{
    static abstract int Count { get; }
    /// <summary>Rows of the micro-kernel tile: as many as the register file holds (2 accumulators per row plus 2 B vectors and a broadcast).</summary>
    static abstract int Rows { get; }
    static abstract TV Zero { get; }
    static abstract TV Load(T* p);
    static abstract void Store(T* p, TV v);
    static abstract TV Broadcast(T x);
    /// <summary>a · b + c, fused where the hardware can.</summary>
    static abstract TV MulAdd(TV a, TV b, TV c);
    static abstract TV Add(TV a, TV b);
    static abstract T Sum(TV v);
}

internal unsafe struct GemmVector512<T> : IGemmVector<Vector512<T>, T> where T : unmanaged
{
    public static int Count => Vector512<T>.Count;
    // AVX-512 has 32 vector registers: 8 rows = 16 accumulators + 3 live operands. Versus 6 rows this cuts the
    // loads per FMA (10 per 16 instead of 8 per 12) and tiles the common m = 32, 64, 256 without a short tile.
    public static int Rows => 8;
    public static Vector512<T> Zero => Vector512<T>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Load(T* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(T* p, Vector512<T> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Broadcast(T x) => Vector512.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Add(Vector512<T> a, Vector512<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Vector512<T> v) => Vector512.Sum(v);

    // AVX-512F always includes FMA, so the fused form is a single instruction here.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> MulAdd(Vector512<T> a, Vector512<T> b, Vector512<T> c)
    {
        if (typeof(T) == typeof(float))
            return Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        throw new NotSupportedException($"Gemm: element type {typeof(T).Name} is not supported.");
    }
}

internal unsafe struct GemmVector256<T> : IGemmVector<Vector256<T>, T> where T : unmanaged
{
    public static int Count => Vector256<T>.Count;
    // 16 ymm registers: 12 accumulators + 2 B vectors + a broadcast.
    public static int Rows => 6;
    public static Vector256<T> Zero => Vector256<T>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Load(T* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(T* p, Vector256<T> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Broadcast(T x) => Vector256.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Add(Vector256<T> a, Vector256<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Vector256<T> v) => Vector256.Sum(v);

    // AVX2 machines without FMA exist; MultiplyAddEstimate fuses when FMA is present and otherwise
    // falls back to multiply + add instead of a slow software-emulated fused operation.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> MulAdd(Vector256<T> a, Vector256<T> b, Vector256<T> c)
    {
        if (typeof(T) == typeof(float))
            return Vector256.MultiplyAddEstimate(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector256.MultiplyAddEstimate(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        throw new NotSupportedException($"Gemm: element type {typeof(T).Name} is not supported.");
    }
}

internal unsafe struct GemmVector128<T> : IGemmVector<Vector128<T>, T> where T : unmanaged
{
    public static int Count => Vector128<T>.Count;
    public static int Rows => 6;
    public static Vector128<T> Zero => Vector128<T>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Load(T* p) => Vector128.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(T* p, Vector128<T> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Broadcast(T x) => Vector128.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> Add(Vector128<T> a, Vector128<T> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T Sum(Vector128<T> v) => Vector128.Sum(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> MulAdd(Vector128<T> a, Vector128<T> b, Vector128<T> c)
    {
        if (typeof(T) == typeof(float))
            return Vector128.MultiplyAddEstimate(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double))
            return Vector128.MultiplyAddEstimate(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        throw new NotSupportedException($"Gemm: element type {typeof(T).Name} is not supported.");
    }
}

/// <summary>Compile-time row count of a micro-kernel instance; the JIT folds the unused rows away.</summary>
internal interface IGemmRows { static abstract int Value { get; } }
internal struct GemmRows1 : IGemmRows { public static int Value => 1; }
internal struct GemmRows2 : IGemmRows { public static int Value => 2; }
internal struct GemmRows3 : IGemmRows { public static int Value => 3; }
internal struct GemmRows4 : IGemmRows { public static int Value => 4; }
internal struct GemmRows5 : IGemmRows { public static int Value => 5; }
internal struct GemmRows6 : IGemmRows { public static int Value => 6; }
internal struct GemmRows7 : IGemmRows { public static int Value => 7; }
internal struct GemmRows8 : IGemmRows { public static int Value => 8; }

/// <summary>
/// The register-blocked micro-kernel: an R×(2·W) tile of C (R ≤ TOps.Rows rows, two vectors of W lanes per row,
/// i.e. 8×32 for float and 8×16 for double with Vector512, 6×(2·W) with the narrower vectors), 2·R accumulators
/// in registers, one broadcast of A per row and two vector loads of B per step of k.
/// </summary>
internal static unsafe class GemmMicroKernel
{
    /// <summary>The most rows any instance handles (<see cref="IGemmVector{TV, T}.Rows"/> of the widest vector).</summary>
    public const int MaxRows = 8;

    /// <summary>
    /// tile(r, 0..2W) = Σ_p a[r·ars + p·acs] · b[p·ldb + 0..2W], summed in increasing p; then
    /// c[r·ldc + j] = tile (overwrite) or c + tile. Every element's arithmetic depends only on its own row
    /// of A and column of B, so results do not depend on where tiles start.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, TV, TOps, TR, TW>(int kc, T* a, nint ars, nint acs, T* b, nint ldb, T* c, nint ldc, bool overwrite)
        where T : unmanaged
        where TV : struct
        where TOps : IGemmVector<TV, T>
        where TR : IGemmRows
        where TW : IGemmRows
    {
        int w = TOps.Count;
        TV c00 = TOps.Zero, c01 = TOps.Zero, c10 = TOps.Zero, c11 = TOps.Zero, c20 = TOps.Zero, c21 = TOps.Zero;
        TV c30 = TOps.Zero, c31 = TOps.Zero, c40 = TOps.Zero, c41 = TOps.Zero, c50 = TOps.Zero, c51 = TOps.Zero;
        TV c60 = TOps.Zero, c61 = TOps.Zero, c70 = TOps.Zero, c71 = TOps.Zero;
        nint a1 = ars, a2 = 2 * ars, a3 = 3 * ars, a4 = 4 * ars, a5 = 5 * ars, a6 = 6 * ars, a7 = 7 * ars;
        // When accumulating, the tile of C is read only after the k loop, usually from L2 or L3 (each k-block sweeps
        // all of C); requesting its lines now overlaps that latency with the loop. (Measured: +6–12% on accumulating
        // shapes; a plain overwrite gained nothing from it.)
        if (!overwrite)
            for (int r = 0; r < TR.Value; r++) PrefetchRow<T, TW>(c + r * ldc, w);
        for (int p = 0; p < kc; p++)
        {
            TV b0 = TOps.Load(b), b1 = TW.Value > 1 ? TOps.Load(b + w) : TOps.Zero;
            TV x = TOps.Broadcast(a[0]);
            c00 = TOps.MulAdd(x, b0, c00); if (TW.Value > 1) c01 = TOps.MulAdd(x, b1, c01);
            if (TR.Value > 1) { x = TOps.Broadcast(a[a1]); c10 = TOps.MulAdd(x, b0, c10); if (TW.Value > 1) c11 = TOps.MulAdd(x, b1, c11); }
            if (TR.Value > 2) { x = TOps.Broadcast(a[a2]); c20 = TOps.MulAdd(x, b0, c20); if (TW.Value > 1) c21 = TOps.MulAdd(x, b1, c21); }
            if (TR.Value > 3) { x = TOps.Broadcast(a[a3]); c30 = TOps.MulAdd(x, b0, c30); if (TW.Value > 1) c31 = TOps.MulAdd(x, b1, c31); }
            if (TR.Value > 4) { x = TOps.Broadcast(a[a4]); c40 = TOps.MulAdd(x, b0, c40); if (TW.Value > 1) c41 = TOps.MulAdd(x, b1, c41); }
            if (TR.Value > 5) { x = TOps.Broadcast(a[a5]); c50 = TOps.MulAdd(x, b0, c50); if (TW.Value > 1) c51 = TOps.MulAdd(x, b1, c51); }
            if (TR.Value > 6) { x = TOps.Broadcast(a[a6]); c60 = TOps.MulAdd(x, b0, c60); if (TW.Value > 1) c61 = TOps.MulAdd(x, b1, c61); }
            if (TR.Value > 7) { x = TOps.Broadcast(a[a7]); c70 = TOps.MulAdd(x, b0, c70); if (TW.Value > 1) c71 = TOps.MulAdd(x, b1, c71); }
            a += acs;
            b += ldb;
        }
        StoreRow<T, TV, TOps, TW>(c, w, c00, c01, overwrite);
        if (TR.Value > 1) StoreRow<T, TV, TOps, TW>(c + ldc, w, c10, c11, overwrite);
        if (TR.Value > 2) StoreRow<T, TV, TOps, TW>(c + 2 * ldc, w, c20, c21, overwrite);
        if (TR.Value > 3) StoreRow<T, TV, TOps, TW>(c + 3 * ldc, w, c30, c31, overwrite);
        if (TR.Value > 4) StoreRow<T, TV, TOps, TW>(c + 4 * ldc, w, c40, c41, overwrite);
        if (TR.Value > 5) StoreRow<T, TV, TOps, TW>(c + 5 * ldc, w, c50, c51, overwrite);
        if (TR.Value > 6) StoreRow<T, TV, TOps, TW>(c + 6 * ldc, w, c60, c61, overwrite);
        if (TR.Value > 7) StoreRow<T, TV, TOps, TW>(c + 7 * ldc, w, c70, c71, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchRow<T, TW>(T* c, int w)
        where T : unmanaged
        where TW : IGemmRows
    {
        if (!Sse.IsSupported) return;
        // First and last element of the row's TW vectors: every cache line they span when the row is unaligned.
        Sse.Prefetch0(c);
        if (TW.Value > 1) Sse.Prefetch0(c + w);
        Sse.Prefetch0(c + TW.Value * w - 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<T, TV, TOps, TW>(T* c, int w, TV v0, TV v1, bool overwrite)
        where T : unmanaged
        where TV : struct
        where TOps : IGemmVector<TV, T>
        where TW : IGemmRows
    {
        if (!overwrite)
        {
            v0 = TOps.Add(TOps.Load(c), v0);
            if (TW.Value > 1) v1 = TOps.Add(TOps.Load(c + w), v1);
        }
        TOps.Store(c, v0);
        if (TW.Value > 1) TOps.Store(c + w, v1);
    }

    /// <summary>Runs the kernel instance for <paramref name="rows"/> (1..TOps.Rows) rows, two vectors wide.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dispatch<T, TV, TOps>(int rows, int kc, T* a, nint ars, nint acs, T* b, nint ldb, T* c, nint ldc, bool overwrite)
        where T : unmanaged
        where TV : struct
        where TOps : IGemmVector<TV, T>
    {
        switch (rows)
        {
            case 8: Run<T, TV, TOps, GemmRows8, GemmRows2>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 7: Run<T, TV, TOps, GemmRows7, GemmRows2>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 6: Run<T, TV, TOps, GemmRows6, GemmRows2>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 5: Run<T, TV, TOps, GemmRows5, GemmRows2>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 4: Run<T, TV, TOps, GemmRows4, GemmRows2>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 3: Run<T, TV, TOps, GemmRows3, GemmRows2>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 2: Run<T, TV, TOps, GemmRows2, GemmRows2>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            default: Run<T, TV, TOps, GemmRows1, GemmRows2>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
        }
    }

    /// <summary>As <see cref="Dispatch{T, TV, TOps}"/>, one vector wide: edge tiles with at most W columns left.</summary>
    public static void DispatchHalf<T, TV, TOps>(int rows, int kc, T* a, nint ars, nint acs, T* b, nint ldb, T* c, nint ldc, bool overwrite)
        where T : unmanaged
        where TV : struct
        where TOps : IGemmVector<TV, T>
    {
        switch (rows)
        {
            case 8: Run<T, TV, TOps, GemmRows8, GemmRows1>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 7: Run<T, TV, TOps, GemmRows7, GemmRows1>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 6: Run<T, TV, TOps, GemmRows6, GemmRows1>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 5: Run<T, TV, TOps, GemmRows5, GemmRows1>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 4: Run<T, TV, TOps, GemmRows4, GemmRows1>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 3: Run<T, TV, TOps, GemmRows3, GemmRows1>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 2: Run<T, TV, TOps, GemmRows2, GemmRows1>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            default: Run<T, TV, TOps, GemmRows1, GemmRows1>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
        }
    }

    /// <summary>
    /// One row of C, <typeparamref name="TV8"/>.Value (1..8) vectors wide: c[0 .. V·W] (+)= Σ_p a[p·acs] · b[p·ldb + ..].
    /// With a single row the 6-row kernel would leave only two dependency chains; up to eight keep both FMA pipes busy.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row<T, TV, TOps, TV8>(int kc, T* a, nint acs, T* b, nint ldb, T* c, bool overwrite)
        where T : unmanaged
        where TV : struct
        where TOps : IGemmVector<TV, T>
        where TV8 : IGemmRows
    {
        int w = TOps.Count, v = TV8.Value;
        TV r0 = TOps.Zero, r1 = TOps.Zero, r2 = TOps.Zero, r3 = TOps.Zero, r4 = TOps.Zero, r5 = TOps.Zero, r6 = TOps.Zero, r7 = TOps.Zero;
        for (int p = 0; p < kc; p++)
        {
            TV x = TOps.Broadcast(a[0]);
            r0 = TOps.MulAdd(x, TOps.Load(b), r0);
            if (v > 1) r1 = TOps.MulAdd(x, TOps.Load(b + w), r1);
            if (v > 2) r2 = TOps.MulAdd(x, TOps.Load(b + 2 * w), r2);
            if (v > 3) r3 = TOps.MulAdd(x, TOps.Load(b + 3 * w), r3);
            if (v > 4) r4 = TOps.MulAdd(x, TOps.Load(b + 4 * w), r4);
            if (v > 5) r5 = TOps.MulAdd(x, TOps.Load(b + 5 * w), r5);
            if (v > 6) r6 = TOps.MulAdd(x, TOps.Load(b + 6 * w), r6);
            if (v > 7) r7 = TOps.MulAdd(x, TOps.Load(b + 7 * w), r7);
            a += acs;
            b += ldb;
        }
        StoreOne<T, TV, TOps>(c, r0, overwrite);
        if (v > 1) StoreOne<T, TV, TOps>(c + w, r1, overwrite);
        if (v > 2) StoreOne<T, TV, TOps>(c + 2 * w, r2, overwrite);
        if (v > 3) StoreOne<T, TV, TOps>(c + 3 * w, r3, overwrite);
        if (v > 4) StoreOne<T, TV, TOps>(c + 4 * w, r4, overwrite);
        if (v > 5) StoreOne<T, TV, TOps>(c + 5 * w, r5, overwrite);
        if (v > 6) StoreOne<T, TV, TOps>(c + 6 * w, r6, overwrite);
        if (v > 7) StoreOne<T, TV, TOps>(c + 7 * w, r7, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne<T, TV, TOps>(T* c, TV v, bool overwrite)
        where T : unmanaged
        where TV : struct
        where TOps : IGemmVector<TV, T>
    {
        TOps.Store(c, overwrite ? v : TOps.Add(TOps.Load(c), v));
    }

    /// <summary>Runs <see cref="Row{T, TV, TOps, TV8}"/> for <paramref name="vectors"/> (1..8) vectors.</summary>
    public static void RowDispatch<T, TV, TOps>(int vectors, int kc, T* a, nint acs, T* b, nint ldb, T* c, bool overwrite)
        where T : unmanaged
        where TV : struct
        where TOps : IGemmVector<TV, T>
    {
        switch (vectors)
        {
            case 8: Row<T, TV, TOps, GemmRows8>(kc, a, acs, b, ldb, c, overwrite); break;
            case 7: Row<T, TV, TOps, GemmRows7>(kc, a, acs, b, ldb, c, overwrite); break;
            case 6: Row<T, TV, TOps, GemmRows6>(kc, a, acs, b, ldb, c, overwrite); break;
            case 5: Row<T, TV, TOps, GemmRows5>(kc, a, acs, b, ldb, c, overwrite); break;
            case 4: Row<T, TV, TOps, GemmRows4>(kc, a, acs, b, ldb, c, overwrite); break;
            case 3: Row<T, TV, TOps, GemmRows3>(kc, a, acs, b, ldb, c, overwrite); break;
            case 2: Row<T, TV, TOps, GemmRows2>(kc, a, acs, b, ldb, c, overwrite); break;
            default: Row<T, TV, TOps, GemmRows1>(kc, a, acs, b, ldb, c, overwrite); break;
        }
    }

    /// <summary>
    /// Four dot products of one contiguous row a[0..k) with four contiguous rows b0..b3 (the A·Bᵀ case, where both
    /// operands run along k): two vector chunks per step, so eight independent accumulators; then a horizontal sum
    /// and a scalar tail in increasing p.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot4<T, TV, TOps>(int k, T* a, T* b, nint ldb, T* c, bool overwrite)
        where T : unmanaged, INumberBase<T>
        where TV : struct
        where TOps : IGemmVector<TV, T>
    {
        int w = TOps.Count;
        T* b0 = b, b1 = b + ldb, b2 = b + 2 * ldb, b3 = b + 3 * ldb;
        TV s0 = TOps.Zero, s1 = TOps.Zero, s2 = TOps.Zero, s3 = TOps.Zero;
        TV t0 = TOps.Zero, t1 = TOps.Zero, t2 = TOps.Zero, t3 = TOps.Zero;
        int p = 0;
        for (; p + 2 * w <= k; p += 2 * w)
        {
            TV x = TOps.Load(a + p), y = TOps.Load(a + p + w);
            s0 = TOps.MulAdd(x, TOps.Load(b0 + p), s0); t0 = TOps.MulAdd(y, TOps.Load(b0 + p + w), t0);
            s1 = TOps.MulAdd(x, TOps.Load(b1 + p), s1); t1 = TOps.MulAdd(y, TOps.Load(b1 + p + w), t1);
            s2 = TOps.MulAdd(x, TOps.Load(b2 + p), s2); t2 = TOps.MulAdd(y, TOps.Load(b2 + p + w), t2);
            s3 = TOps.MulAdd(x, TOps.Load(b3 + p), s3); t3 = TOps.MulAdd(y, TOps.Load(b3 + p + w), t3);
        }
        if (p + w <= k)
        {
            TV x = TOps.Load(a + p);
            s0 = TOps.MulAdd(x, TOps.Load(b0 + p), s0);
            s1 = TOps.MulAdd(x, TOps.Load(b1 + p), s1);
            s2 = TOps.MulAdd(x, TOps.Load(b2 + p), s2);
            s3 = TOps.MulAdd(x, TOps.Load(b3 + p), s3);
            p += w;
        }
        T r0 = TOps.Sum(TOps.Add(s0, t0)), r1 = TOps.Sum(TOps.Add(s1, t1));
        T r2 = TOps.Sum(TOps.Add(s2, t2)), r3 = TOps.Sum(TOps.Add(s3, t3));
        for (; p < k; p++)
        {
            T x = a[p];
            r0 += x * b0[p]; r1 += x * b1[p]; r2 += x * b2[p]; r3 += x * b3[p];
        }
        if (overwrite) { c[0] = r0; c[1] = r1; c[2] = r2; c[3] = r3; }
        else { c[0] += r0; c[1] += r1; c[2] += r2; c[3] += r3; }
    }

    /// <summary>One dot product, same order of operations as one lane of <see cref="Dot4{T, TV, TOps}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dot1<T, TV, TOps>(int k, T* a, T* b, T* c, bool overwrite)
        where T : unmanaged, INumberBase<T>
        where TV : struct
        where TOps : IGemmVector<TV, T>
    {
        int w = TOps.Count;
        TV s = TOps.Zero, t = TOps.Zero;
        int p = 0;
        for (; p + 2 * w <= k; p += 2 * w)
        {
            s = TOps.MulAdd(TOps.Load(a + p), TOps.Load(b + p), s);
            t = TOps.MulAdd(TOps.Load(a + p + w), TOps.Load(b + p + w), t);
        }
        if (p + w <= k)
        {
            s = TOps.MulAdd(TOps.Load(a + p), TOps.Load(b + p), s);
            p += w;
        }
        T r = TOps.Sum(TOps.Add(s, t));
        for (; p < k; p++) r += a[p] * b[p];
        c[0] = overwrite ? r : c[0] + r;
    }
}
