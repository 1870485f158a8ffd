using System.Numerics;

namespace Autograd.Nn;

/// <summary>
/// The book's <c>Dense</c> layer: y = x·W + B over the last axis. W (in, out), B (1, out); built lazily.
/// PyTorch's <c>nn.Linear</c> holds the same values as <c>weight</c> = Wᵀ (out, in) and <c>bias</c> (out).
/// </summary>
public sealed class Linear<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly int _seed;
    private Tensor<T>? _w, _b;

    /// <summary>A dense layer whose W and B are created from the first input's last axis.</summary>
    /// <param name="outputSize">Output features (the last axis of the result).</param>
    /// <param name="seed">Seeds the Xavier-uniform draw of W (B starts at zero).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="outputSize"/> is not positive.</exception>
    public Linear(int outputSize, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        OutputSize = outputSize;
        _seed = seed;
    }

    /// <summary>Output features.</summary>
    public int OutputSize { get; }

    /// <summary>Input features, once built (by the first input or <see cref="Build"/>).</summary>
    public int? InputSize => _w?.Size(0);

    /// <summary>Creates W (Xavier uniform) and B (zeros) for <paramref name="inputSize"/> features, if not built yet.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException">Already built for a different input size.</exception>
    public void Build(int inputSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        if (_w is not null)
        {
            if (_w.Size(0) != inputSize)
                throw new ArgumentException($"Linear: built for {_w.Size(0)} input features, got {inputSize}.", nameof(inputSize));
            return;
        }
        var rng = new Random(_seed);
        _w = Init.XavierUniform<T>(rng, inputSize, OutputSize);
        _b = Tensor.Zeros<T>(1, OutputSize);
        _w.RequiresGrad = _b.RequiresGrad = true;
    }

    /// <summary>(..., in) → (..., out).</summary>
    /// <param name="input">Any rank ≥ 1; the last axis is the input features (fixed by the first call).</param>
    /// <returns>The input's leading axes, then <see cref="OutputSize"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">Rank 0, or the last axis differs from the built input size.</exception>
    public Tensor<T> Forward(Tensor<T> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank == 0) throw new ArgumentException("Linear.Forward: input needs rank >= 1.", nameof(input));
        int f = input.Size(-1);
        if (_w is null) Build(f);
        else if (_w.Size(0) != f)
            throw new ArgumentException($"Linear.Forward: built for {_w.Size(0)} input features, got input of shape {Tensor.FormatShape(input.Shape)}.", nameof(input));
        var lead = input.Shape[..^1].ToArray();
        var y = input.Reshape(-1, f).MatMul(_w!) + _b!;
        return y.Reshape([.. lead, OutputSize]);
    }

    internal override void PrepareForLoad(IReadOnlyDictionary<string, Tensor<T>> state, string prefix)
    {
        if (_w is null && InferInputSize(state, prefix) is int f) Build(f);
    }

    internal override IEnumerable<(string Name, int[] Shape)> LoadLayout(IReadOnlyDictionary<string, Tensor<T>> state, string prefix)
        => _w is null && InferInputSize(state, prefix) is int f
            ? [(prefix + "W", [f, OutputSize]), (prefix + "B", [1, OutputSize])]
            : base.LoadLayout(state, prefix);

    private static int? InferInputSize(IReadOnlyDictionary<string, Tensor<T>> state, string prefix)
        => state.TryGetValue(prefix + "W", out var w) && w is not null && w.Rank == 2 && w.Size(0) > 0 ? w.Size(0) : null;

    internal override void CollectPyTorch(string prefix, List<PyTorchEntry<T>> entries)
    {
        if (_w is null)
            throw new InvalidOperationException($"PyTorchStateDict: the Linear layer at '{prefix}weight' is not built; run a forward pass or call Build(inputSize) first.");
        entries.Add(PyTorchEntry<T>.Transposed(prefix + "weight", _w));
        entries.Add(PyTorchEntry<T>.Vector(prefix + "bias", _b!));
    }

    internal override void PrepareForPyTorch(IReadOnlyDictionary<string, int[]> shapes, string prefix)
    {
        if (_w is null && PyTorchShapes.InputSize(shapes, prefix + "weight") is int f) Build(f);
    }

    internal override void PyTorchLayout(IReadOnlyDictionary<string, int[]> shapes, string prefix, List<PyTorchSlot<T>> slots)
    {
        slots.Add(new(prefix + "weight", [OutputSize, InputSize ?? PyTorchShapes.InputSize(shapes, prefix + "weight") ?? -1]));
        slots.Add(new(prefix + "bias", [OutputSize]));
    }

    /// <inheritdoc />
    protected override IEnumerable<(string Name, Tensor<T> Parameter)> LocalParameters()
    {
        if (_w is null) yield break;
        yield return ("W", _w);
        yield return ("B", _b!);
    }
}
