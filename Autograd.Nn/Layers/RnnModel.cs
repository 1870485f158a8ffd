using System.Numerics;

namespace Autograd.Nn;

/// <summary>
/// The seed's <c>RNNModel</c>: recurrent layers applied in order, any mix of kinds. Layer i's
/// input size is layer i-1's <see cref="RecurrentLayer{T}.OutputSize"/>; the last layer's output
/// size is the model's (e.g. the vocabulary). Parameters are keyed <c>layers.{i}.{name}</c>.
/// </summary>
public sealed class RnnModel<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly RecurrentLayer<T>[] _layers;
    private readonly int _dropoutSeed;

    /// <summary>A stack of layers with no dropout.</summary>
    /// <param name="layers">First to last; each layer's input size becomes its predecessor's output size.</param>
    /// <exception cref="ArgumentNullException"><paramref name="layers"/> is null.</exception>
    /// <exception cref="ArgumentException">No layers, or a null layer.</exception>
    public RnnModel(params RecurrentLayer<T>[] layers) : this(layers, 0.0) { }

    /// <summary>A stack of layers with dropout between them.</summary>
    /// <param name="layers">First to last.</param>
    /// <param name="dropout">Probability of zeroing each value passed between layers, in training mode only.</param>
    /// <param name="seed">Seed for the dropout masks: with <see cref="DropoutMasksDrawn"/>, it determines every mask.</param>
    /// <exception cref="ArgumentNullException"><paramref name="layers"/> is null.</exception>
    /// <exception cref="ArgumentException">No layers, or a null layer.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dropout"/> is outside [0, 1).</exception>
    public RnnModel(IEnumerable<RecurrentLayer<T>> layers, double dropout, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(layers);
        _layers = layers.ToArray();
        if (_layers.Length == 0) throw new ArgumentException("RnnModel: needs at least one layer.", nameof(layers));
        if (_layers.Any(l => l is null)) throw new ArgumentException("RnnModel: a layer is null.", nameof(layers));
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "RnnModel: dropout must be in [0, 1).");
        Dropout = dropout;
        _dropoutSeed = seed;
    }

    /// <summary>The layers, first to last.</summary>
    public IReadOnlyList<RecurrentLayer<T>> Layers => _layers;

    /// <summary>Dropout probability between layers (training mode only).</summary>
    public double Dropout { get; }

    /// <summary>
    /// The dropout generator's state: how many masks have been drawn. Mask n is a pure function of the
    /// seed and n, so saving this number and setting it back (e.g. from a checkpoint) makes a resumed
    /// run draw exactly the masks an uninterrupted one would.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative value.</exception>
    public long DropoutMasksDrawn
    {
        get;
        set => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "RnnModel: the dropout mask count cannot be negative.");
    }

    /// <summary>Runs every layer. Input (batch, time, features) → (batch, time, last layer's output size).</summary>
    /// <param name="input">(batch, time, features).</param>
    /// <returns>(batch, time, O) where O is the last layer's <see cref="RecurrentLayer{T}.OutputSize"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">The input is not rank 3 or its feature size does not match the first layer.</exception>
    public Tensor<T> Forward(Tensor<T> input)
    {
        var x = _layers[0].Forward(input);
        for (int i = 1; i < _layers.Length; i++) x = _layers[i].Forward(Drop(x));
        return x;
    }

    /// <summary>As <see cref="Forward(Tensor{T})"/> on one-hot input given as (batch, time) class ids, row-major.</summary>
    /// <param name="ids">batch × time class ids, row-major.</param>
    /// <param name="batch">Sequences in the batch.</param>
    /// <param name="time">Time steps per sequence.</param>
    /// <param name="vocabSize">Number of classes: the first layer's input size.</param>
    /// <returns>(batch, time, O) where O is the last layer's output size.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="ids"/> is null.</exception>
    /// <exception cref="ArgumentException">Wrong id count or sizes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id outside [0, vocabSize).</exception>
    public Tensor<T> ForwardOneHot(int[] ids, int batch, int time, int vocabSize)
    {
        var x = _layers[0].ForwardOneHot(ids, batch, time, vocabSize);
        for (int i = 1; i < _layers.Length; i++) x = _layers[i].Forward(Drop(x));
        return x;
    }

    /// <summary>Sets every layer's carried state to zeros.</summary>
    public void ResetState()
    {
        foreach (var l in _layers) l.ResetState();
    }

    /// <summary>Builds every layer for <paramref name="inputSize"/> features at the first layer.</summary>
    /// <param name="inputSize">F of the first layer; each later layer gets its predecessor's output size.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A layer was already built for a different input size.</exception>
    public void Build(int inputSize)
    {
        foreach (var l in _layers)
        {
            l.Build(inputSize);
            inputSize = l.OutputSize;
        }
    }

    /// <inheritdoc />
    protected override IEnumerable<(string Name, Module<T> Child)> Children()
    {
        for (int i = 0; i < _layers.Length; i++) yield return ($"layers.{i}", _layers[i]);
    }

    private Tensor<T> Drop(Tensor<T> x)
    {
        if (!Training || Dropout == 0) return x;
        // Inverted dropout: kept values are scaled by 1/(1-p) so evaluation needs no rescaling.
        var mask = new T[x.Length];
        T keep = T.One / T.CreateChecked(1 - Dropout);
        // SplitMix64 started from (seed, mask number): a generator whose whole state is one counter.
        ulong state = Mix(((ulong)(uint)_dropoutSeed << 32) ^ Mix((ulong)DropoutMasksDrawn++));
        for (int i = 0; i < mask.Length; i++)
        {
            state += 0x9E3779B97F4A7C15UL;
            double u = (Mix(state) >> 11) * (1.0 / (1UL << 53));
            mask[i] = u >= Dropout ? keep : T.Zero;
        }
        return x * Tensor.FromArray(mask, x.Shape.ToArray());
    }

    /// <summary>SplitMix64's finaliser.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
