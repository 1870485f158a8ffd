using System.Numerics;

namespace Autograd.Nn;

/// <summary>
/// A lookup table of <see cref="Count"/> vectors of <see cref="Dimension"/> features (PyTorch's
/// <c>nn.Embedding</c>, Keras' <c>Embedding</c>): ids in, their rows of W out. The lookup is the engine's
/// gather (<c>IndexSelect</c>), whose backward adds each position's gradient into its id's row, so a
/// repeated id gets the sum and an unused id gets zero. Parameter W (Count, Dimension), drawn N(0, 1) as
/// PyTorch does; PyTorch names it <c>weight</c>.
/// </summary>
public sealed class Embedding<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Tensor<T> _w;

    /// <param name="count">The number of ids (the vocabulary).</param>
    /// <param name="dimension">Features per id.</param>
    /// <param name="seed">Seeds the initial N(0, 1) draw.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public Embedding(int count, int dimension, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dimension);
        _w = Tensor.Randn<T>(new Random(seed), count, dimension);
        _w.RequiresGrad = true;
    }

    /// <summary>The number of ids.</summary>
    public int Count => _w.Size(0);

    /// <summary>Features per id.</summary>
    public int Dimension => _w.Size(1);

    /// <summary>The table W (Count, Dimension).</summary>
    public Tensor<T> Weight => _w;

    /// <summary>The rows of <paramref name="ids"/>, shaped (shape..., Dimension).</summary>
    /// <param name="ids">Ids in [0, Count), row-major over <paramref name="shape"/>.</param>
    /// <param name="shape">The ids' shape, e.g. (batch, time); empty for a flat list (ids.Length, Dimension).</param>
    /// <exception cref="ArgumentException">The shape's element count differs from the number of ids.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, Count).</exception>
    public Tensor<T> Forward(int[] ids, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0) shape = [ids.Length];
        long n = 1;
        foreach (int s in shape) n = s < 0 ? -1 : n * s;
        if (n != ids.Length)
            throw new ArgumentException($"Embedding.Forward: {ids.Length} ids do not fill shape {Tensor.FormatShape(shape)}.", nameof(shape));
        return _w.IndexSelect(ids).Reshape([.. shape, Dimension]);
    }

    /// <inheritdoc />
    protected override IEnumerable<(string Name, Tensor<T> Parameter)> LocalParameters()
    {
        yield return ("W", _w);
    }

    internal override void CollectPyTorch(string prefix, List<PyTorchEntry<T>> entries) => entries.Add(PyTorchEntry<T>.Same(prefix + "weight", _w));

    internal override void PyTorchLayout(IReadOnlyDictionary<string, int[]> shapes, string prefix, List<PyTorchSlot<T>> slots) => slots.Add(new(prefix + "weight", _w.Shape.ToArray()));
}
