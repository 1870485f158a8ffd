using System.Numerics;

namespace Autograd.Backends;

/// <summary>
/// A family of kernels (<see cref="IKernels{T}"/> for float and double) and the storage they work on. Every
/// op, optimizer and in-place update runs through <see cref="Current"/>'s kernels.
/// </summary>
/// <remarks>
/// Two backends ship: <see cref="Cpu"/> (the default: SIMD, packed GEMM, threads) and <see cref="Reference"/>
/// (plain scalar loops accumulating in double: slow, obviously right, an oracle for the other). Choose one at
/// run time with <see cref="Current"/> or the environment variable <c>AUTOGRAD_BACKEND</c> (<c>cpu</c> or
/// <c>reference</c>), read at start-up. A new backend (say a GPU one) subclasses this, implements
/// <see cref="IKernels{T}"/> over its own <see cref="Storage{T}"/> subclass, and is assigned to
/// <see cref="Current"/>; no op changes. Tensors keep the storage they were created with, so switch backends
/// between models, not in the middle of one (both shipped backends use host memory and can share tensors).
/// </remarks>
public abstract class Backend
{
    private static Backend s_current = FromEnvironment();

    /// <summary>The backend's name (<c>cpu</c>, <c>reference</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Kernels for float tensors.</summary>
    public abstract IKernels<float> Float { get; }

    /// <summary>Kernels for double tensors.</summary>
    public abstract IKernels<double> Double { get; }

    /// <summary>The kernels for element type <typeparamref name="T"/>.</summary>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public IKernels<T> For<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return (IKernels<T>)(object)Float;
        if (typeof(T) == typeof(double)) return (IKernels<T>)(object)Double;
        throw new NotSupportedException($"Backend '{Name}': element type {typeof(T).Name} is not supported (float or double).");
    }

    /// <summary>The SIMD CPU backend (the default).</summary>
    public static Backend Cpu => Autograd.Backends.Cpu.CpuBackend.Instance;

    /// <summary>The reference backend: scalar loops, double accumulation; for checking other backends.</summary>
    public static Backend Reference => Autograd.Backends.Reference.ReferenceBackend.Instance;

    /// <summary>The backend new tensors and ops use (process-wide).</summary>
    /// <exception cref="ArgumentNullException">Set to null.</exception>
    public static Backend Current
    {
        get => Volatile.Read(ref s_current);
        set => Volatile.Write(ref s_current, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>The shipped backend called <paramref name="name"/> (<c>cpu</c> or <c>reference</c>, any case).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException">No backend has that name.</exception>
    public static Backend FromName(string name) => (name ?? throw new ArgumentNullException(nameof(name))).Trim().ToLowerInvariant() switch
    {
        "cpu" => Cpu,
        "reference" => Reference,
        _ => throw new ArgumentException($"Backend: unknown backend '{name}' (cpu or reference).", nameof(name)),
    };

    private static Backend FromEnvironment()
    {
        var name = Environment.GetEnvironmentVariable("AUTOGRAD_BACKEND");
        if (string.IsNullOrWhiteSpace(name)) return Cpu;
        try { return FromName(name); }
        catch (ArgumentException) { throw new InvalidOperationException($"AUTOGRAD_BACKEND: unknown backend '{name}' (cpu or reference)."); }
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
