using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Autograd.Kernels;

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
    static abstract TV Zero { get; }
    static abstract TV Load(T* p);
    static abstract void Store(T* p, TV v);
    static abstract TV Broadcast(T x);
    /// <summary>a · b + c, fused where the hardware can.</summary>
    static abstract TV MulAdd(TV a, TV b, TV c);
    static abstract TV Add(TV a, TV b);
}

internal unsafe struct GemmVector512<T> : IGemmVector<Vector512<T>, T> where T : unmanaged
{
    public static int Count => Vector512<T>.Count;
    public static Vector512<T> Zero => Vector512<T>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Load(T* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(T* p, Vector512<T> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Broadcast(T x) => Vector512.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<T> Add(Vector512<T> a, Vector512<T> b) => a + b;

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
    public static Vector256<T> Zero => Vector256<T>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Load(T* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(T* p, Vector256<T> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Broadcast(T x) => Vector256.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<T> Add(Vector256<T> a, Vector256<T> b) => a + b;

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

/// <summary>
/// The register-blocked micro-kernel: an R×(2·W) tile of C (R ≤ 6 rows, two vectors of W lanes per row,
/// i.e. 6×32 for float and 6×16 for double with Vector512), 12 accumulators in registers, one broadcast of
/// A and two vector loads of B per step of k.
/// </summary>
internal static unsafe class GemmMicroKernel
{
    public const int MaxRows = 6;

    /// <summary>
    /// tile(r, 0..2W) = Σ_p a[r·ars + p·acs] · b[p·ldb + 0..2W], summed in increasing p; then
    /// c[r·ldc + j] = tile (overwrite) or c + tile. Every element's arithmetic depends only on its own row
    /// of A and column of B, so results do not depend on where tiles start.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, TV, TOps, TR>(int kc, T* a, nint ars, nint acs, T* b, nint ldb, T* c, nint ldc, bool overwrite)
        where T : unmanaged
        where TV : struct
        where TOps : IGemmVector<TV, T>
        where TR : IGemmRows
    {
        int w = TOps.Count;
        TV c00 = TOps.Zero, c01 = TOps.Zero, c10 = TOps.Zero, c11 = TOps.Zero, c20 = TOps.Zero, c21 = TOps.Zero;
        TV c30 = TOps.Zero, c31 = TOps.Zero, c40 = TOps.Zero, c41 = TOps.Zero, c50 = TOps.Zero, c51 = TOps.Zero;
        nint a1 = ars, a2 = 2 * ars, a3 = 3 * ars, a4 = 4 * ars, a5 = 5 * ars;
        for (int p = 0; p < kc; p++)
        {
            TV b0 = TOps.Load(b), b1 = TOps.Load(b + w);
            TV x = TOps.Broadcast(a[0]);
            c00 = TOps.MulAdd(x, b0, c00); c01 = TOps.MulAdd(x, b1, c01);
            if (TR.Value > 1) { x = TOps.Broadcast(a[a1]); c10 = TOps.MulAdd(x, b0, c10); c11 = TOps.MulAdd(x, b1, c11); }
            if (TR.Value > 2) { x = TOps.Broadcast(a[a2]); c20 = TOps.MulAdd(x, b0, c20); c21 = TOps.MulAdd(x, b1, c21); }
            if (TR.Value > 3) { x = TOps.Broadcast(a[a3]); c30 = TOps.MulAdd(x, b0, c30); c31 = TOps.MulAdd(x, b1, c31); }
            if (TR.Value > 4) { x = TOps.Broadcast(a[a4]); c40 = TOps.MulAdd(x, b0, c40); c41 = TOps.MulAdd(x, b1, c41); }
            if (TR.Value > 5) { x = TOps.Broadcast(a[a5]); c50 = TOps.MulAdd(x, b0, c50); c51 = TOps.MulAdd(x, b1, c51); }
            a += acs;
            b += ldb;
        }
        StoreRow<T, TV, TOps>(c, w, c00, c01, overwrite);
        if (TR.Value > 1) StoreRow<T, TV, TOps>(c + ldc, w, c10, c11, overwrite);
        if (TR.Value > 2) StoreRow<T, TV, TOps>(c + 2 * ldc, w, c20, c21, overwrite);
        if (TR.Value > 3) StoreRow<T, TV, TOps>(c + 3 * ldc, w, c30, c31, overwrite);
        if (TR.Value > 4) StoreRow<T, TV, TOps>(c + 4 * ldc, w, c40, c41, overwrite);
        if (TR.Value > 5) StoreRow<T, TV, TOps>(c + 5 * ldc, w, c50, c51, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<T, TV, TOps>(T* c, int w, TV v0, TV v1, bool overwrite)
        where T : unmanaged
        where TV : struct
        where TOps : IGemmVector<TV, T>
    {
        if (!overwrite)
        {
            v0 = TOps.Add(TOps.Load(c), v0);
            v1 = TOps.Add(TOps.Load(c + w), v1);
        }
        TOps.Store(c, v0);
        TOps.Store(c + w, v1);
    }

    /// <summary>Runs the kernel instance for <paramref name="rows"/> (1..6) rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dispatch<T, TV, TOps>(int rows, int kc, T* a, nint ars, nint acs, T* b, nint ldb, T* c, nint ldc, bool overwrite)
        where T : unmanaged
        where TV : struct
        where TOps : IGemmVector<TV, T>
    {
        switch (rows)
        {
            case 6: Run<T, TV, TOps, GemmRows6>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 5: Run<T, TV, TOps, GemmRows5>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 4: Run<T, TV, TOps, GemmRows4>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 3: Run<T, TV, TOps, GemmRows3>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            case 2: Run<T, TV, TOps, GemmRows2>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
            default: Run<T, TV, TOps, GemmRows1>(kc, a, ars, acs, b, ldb, c, ldc, overwrite); break;
        }
    }
}
