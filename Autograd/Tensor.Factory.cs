using System.Numerics;
using Autograd.Backends;
using Autograd.Backends.Cpu;

namespace Autograd;

/// <summary>Factories and graph-wide switches for <see cref="Tensor{T}"/>.</summary>
public static class Tensor
{
    /// <summary>A tensor holding a copy of <paramref name="data"/> with the given shape.</summary>
    /// <exception cref="ArgumentException">The data's length does not match the shape's element count, or a size is negative.</exception>
    public static Tensor<T> FromArray<T>(T[] data, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        int n = ShapeUtil.Product(shape);
        if (n != data.Length)
            throw new ArgumentException($"FromArray: {data.Length} values do not fill shape {ShapeUtil.Format(shape)} ({n} elements).", nameof(data));
        return FromHost<T>(shape.AsSpan().ToArray(), data);
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/> with the given shape (e.g. part of a reused buffer).</summary>
    /// <exception cref="ArgumentException">The data's length does not match the shape's element count, or a size is negative.</exception>
    public static Tensor<T> FromSpan<T>(ReadOnlySpan<T> data, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(shape);
        int n = ShapeUtil.Product(shape);
        if (n != data.Length)
            throw new ArgumentException($"FromSpan: {data.Length} values do not fill shape {ShapeUtil.Format(shape)} ({n} elements).", nameof(data));
        return FromHost(shape.AsSpan().ToArray(), data);
    }

    /// <summary>A rank-0 tensor.</summary>
    public static Tensor<T> Scalar<T>(T value) where T : unmanaged, IFloatingPointIeee754<T> => FromHost<T>([], [value]);

    /// <summary>A zero-filled tensor.</summary>
    /// <exception cref="ArgumentException">A size is negative.</exception>
    public static Tensor<T> Zeros<T>(params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
        => Full(T.Zero, shape);

    /// <summary>A tensor filled with ones.</summary>
    /// <exception cref="ArgumentException">A size is negative.</exception>
    public static Tensor<T> Ones<T>(params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
        => Full(T.One, shape);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentException">A size is negative.</exception>
    public static Tensor<T> Full<T>(T value, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = Tensor<T>.Uninitialized(CheckedShape(shape));
        Tensor<T>.K.Fill(t.Buffer, value);
        return t;
    }

    /// <summary>Standard-normal samples (Box–Muller) drawn from <paramref name="random"/>: same seed, same values.</summary>
    /// <exception cref="ArgumentException">A size is negative.</exception>
    public static Tensor<T> Randn<T>(Random random, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(random);
        var dims = CheckedShape(shape);
        var s = new T[ShapeUtil.Product(dims)];
        for (int i = 0; i < s.Length; i += 2)
        {
            double u1 = 1.0 - random.NextDouble(); // (0, 1]: log is finite
            double u2 = random.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            s[i] = T.CreateChecked(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < s.Length) s[i + 1] = T.CreateChecked(r * Math.Sin(2 * Math.PI * u2));
        }
        return FromHost(dims, s);
    }

    /// <summary>Uniform samples in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public static Tensor<T> Uniform<T>(Random random, T low, T high, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(random);
        var dims = CheckedShape(shape);
        var s = new T[ShapeUtil.Product(dims)];
        for (int i = 0; i < s.Length; i++) s[i] = low + (high - low) * T.CreateChecked(random.NextDouble());
        return FromHost(dims, s);
    }

    /// <summary>
    /// A scope in which no op records a graph (like <c>torch.no_grad()</c>). Dispose it to restore recording;
    /// scopes nest. It flows with the async context: after an <c>await</c> inside the scope the code is still in
    /// it, whatever thread it resumes on; threads already running elsewhere are unaffected; tasks and threads
    /// started inside it inherit it.
    /// </summary>
    /// <exception cref="InvalidOperationException">On dispose: scopes disposed out of order, or in another async flow.</exception>
    public static IDisposable NoGrad() => GradMode.Disable();

    /// <summary>
    /// A scope (flowing like <see cref="NoGrad"/>) in which every recorded op's output and every gradient
    /// computed by backward is checked for NaN and ±∞ (like <c>torch.autograd.detect_anomaly()</c>).
    /// A non-finite value raises <see cref="AnomalyException"/> naming the op, its creation site and the
    /// shapes. Slow: for debugging. Dispose to leave; scopes nest.
    /// </summary>
    public static IDisposable DetectAnomaly() => Anomaly.Enable();

    /// <summary>
    /// A scope whose op results are temporaries of a recorded graph: their storage comes from a pool and goes
    /// back to it as soon as a backward pass (without <c>retainGraph</c>) has run the op that produced them.
    /// Library code (layers, losses) opens it around tensors it never hands out; a tensor created inside must
    /// not be read after the backward pass that consumed it. Scopes nest, and flow with the async context as
    /// <see cref="NoGrad"/> does.
    /// </summary>
    /// <exception cref="InvalidOperationException">On dispose: scopes disposed out of order, or in another async flow.</exception>
    public static RecyclingScope Recycling() => new(PoolScope.Enter());

    /// <summary>Formats a shape as messages do: <c>(2, 3)</c>, <c>()</c> for a scalar.</summary>
    public static string FormatShape(ReadOnlySpan<int> shape) => ShapeUtil.Format(shape);

    /// <summary>Whether anomaly detection is on in this async flow.</summary>
    public static bool IsAnomalyDetectionEnabled => Anomaly.Enabled;

    /// <summary>Whether ops in this async flow currently record a graph.</summary>
    public static bool IsGradEnabled => GradMode.Enabled;

    /// <summary>Joins tensors along an existing axis; every other size must match.</summary>
    /// <exception cref="ArgumentException">No tensors, differing ranks, or a size other than the axis differs (the message lists the shapes).</exception>
    public static Tensor<T> Concat<T>(int axis, params Tensor<T>[] tensors) where T : unmanaged, IFloatingPointIeee754<T>
        => Tensor<T>.Concat(axis, tensors);

    /// <summary>
    /// Applies a compiled pointwise function to equally shaped tensors as one fused op (one graph node, one pass
    /// over memory): e.g. an LSTM's <c>σ(f)·c + σ(i)·tanh(g)</c> instead of six ops. The gradient with respect to each
    /// input is the function's symbolic derivative (see <see cref="PointwiseFunction"/>). The result has the inputs' shape.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="function"/> or <paramref name="inputs"/> is null.</exception>
    /// <exception cref="ArgumentException">The count differs from the function's arity, exceeds 7, an input is null, or the shapes differ (the message lists them).</exception>
    public static Tensor<T> Pointwise<T>(PointwiseFunction function, params Tensor<T>[] inputs) where T : unmanaged, IFloatingPointIeee754<T>
        => Tensor<T>.Pointwise(function, inputs);

    /// <summary>Joins equally shaped tensors along a new axis (composite: unsqueeze, then concat).</summary>
    /// <exception cref="ArgumentException">No tensors, or their shapes differ.</exception>
    public static Tensor<T> Stack<T>(int axis, params Tensor<T>[] tensors) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length == 0) throw new ArgumentException("Stack: needs at least one tensor.", nameof(tensors));
        for (int i = 0; i < tensors.Length; i++)
            if (tensors[i] is null) throw new ArgumentException($"Stack: tensors[{i}] is null.", nameof(tensors));
        foreach (var t in tensors)
        {
            if (!ShapeUtil.SameShape(t.Shape, tensors[0].Shape))
                throw new ArgumentException($"Stack: shapes differ: {string.Join(", ", tensors.Select(x => ShapeUtil.Format(x.Shape)))}.", nameof(tensors));
        }
        int ax = ShapeUtil.NormalizeNewAxis(axis, tensors[0].Shape, "Stack");
        return Tensor<T>.Concat(ax, tensors.Select(t => t.Unsqueeze(ax)).ToArray());
    }

    /// <summary>A tensor of the current backend holding <paramref name="values"/> (copied).</summary>
    private static Tensor<T> FromHost<T>(int[] shape, ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var t = Tensor<T>.Uninitialized(shape);
        Tensor<T>.K.Upload(values, t.Buffer);
        return t;
    }

    /// <summary>
    /// Threads the CPU backend uses for a kernel (GEMM, elementwise and reductions above a work threshold),
    /// like <c>torch.set_num_threads</c>. Defaults to the processor count, or to the environment variable
    /// <c>AUTOGRAD_NUM_THREADS</c> read at start-up. Results are bitwise the same for any value: work is split
    /// into parts that do not depend on the thread count.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set below 1.</exception>
    public static int NumThreads
    {
        get => CpuParallel.Threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(NumThreads));
            CpuParallel.Threads = value;
        }
    }

    private static int[] CheckedShape(int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ShapeUtil.Product(shape);
        return shape.AsSpan().ToArray();
    }
}


/// <summary>The scope returned by <see cref="Tensor.Recycling"/>; dispose it to leave.</summary>
public readonly struct RecyclingScope : IDisposable
{
    private readonly PoolScope.Scope _inner;

    internal RecyclingScope(PoolScope.Scope inner) => _inner = inner;

    /// <summary>Leaves the scope.</summary>
    public void Dispose() => _inner.Dispose();
}
