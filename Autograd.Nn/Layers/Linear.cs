using System.Numerics;

namespace Autograd.Nn;

/// <summary>The book's <c>Dense</c> layer: y = x·W + B over the last axis. W (in, out), B (1, out); built lazily.</summary>
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
        if (_w is null)
        {
            var rng = new Random(_seed);
            _w = Init.XavierUniform<T>(rng, f, OutputSize);
            _b = Tensor.Zeros<T>(1, OutputSize);
            _w.RequiresGrad = _b.RequiresGrad = true;
        }
        else if (_w.Size(0) != f)
            throw new ArgumentException($"Linear.Forward: built for {_w.Size(0)} input features, got input of shape {Tensor.FormatShape(input.Shape)}.", nameof(input));
        var lead = input.Shape[..^1].ToArray();
        var y = input.Reshape(-1, f).MatMul(_w) + _b!;
        return y.Reshape([.. lead, OutputSize]);
    }

    /// <inheritdoc />
    protected override IEnumerable<(string Name, Tensor<T> Parameter)> LocalParameters()
    {
        if (_w is null) yield break;
        yield return ("W", _w);
        yield return ("B", _b!);
    }
}
