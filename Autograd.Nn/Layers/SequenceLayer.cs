using System.Numerics;

namespace Autograd.Nn;

/// <summary>
/// A layer that maps a batch of sequences (batch, time, features) to (batch, time, <see cref="OutputSize"/>):
/// a <see cref="RecurrentLayer{T}"/> or a <see cref="Bidirectional{T}"/> pair of them. What
/// <see cref="RnnModel{T}"/> stacks.
/// </summary>
public abstract class SequenceLayer<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private protected SequenceLayer() { }

    /// <summary>F, known once the layer is built (by its first input or <see cref="Build"/>).</summary>
    public abstract int? InputSize { get; }

    /// <summary>The feature size of the output.</summary>
    public abstract int OutputSize { get; }

    /// <summary>
    /// The recurrent layers that run in each direction, forward first: one for a recurrent layer,
    /// two for a bidirectional one. Their <see cref="RecurrentLayer{T}.FinalState"/> holds the final states.
    /// </summary>
    public abstract IReadOnlyList<RecurrentLayer<T>> Directions { get; }

    /// <summary>Creates the parameters for <paramref name="inputSize"/> features, if not built yet.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException">Already built for a different input size.</exception>
    public abstract void Build(int inputSize);

    /// <summary>Sets the carried state to zeros, as in a freshly built layer.</summary>
    public abstract void ResetState();

    /// <summary>Runs the layer over a batch of full-length sequences.</summary>
    /// <param name="input">(batch, time, features).</param>
    /// <returns>(batch, time, <see cref="OutputSize"/>).</returns>
    /// <exception cref="ArgumentException">Not rank 3, an empty axis, or a feature size other than the one the layer was built for.</exception>
    public Tensor<T> Forward(Tensor<T> input) => Forward(input, null);

    /// <summary>
    /// Runs the layer over a padded batch of sequences of different lengths, as PyTorch's packed sequences:
    /// sequence b is read at steps 0 .. lengths[b]-1 only; its output is zero from step lengths[b] on, its final
    /// state is its state after its own last valid step, and nothing past its length gets a gradient.
    /// </summary>
    /// <param name="input">(batch, time, features); values past a sequence's length are never read (NaN or Inf there changes nothing).</param>
    /// <param name="lengths">One length per sequence, each in 1..time; null for full length.</param>
    /// <returns>(batch, time, <see cref="OutputSize"/>).</returns>
    /// <exception cref="ArgumentException">A bad input shape, or lengths of the wrong count or outside 1..time.</exception>
    public Tensor<T> Forward(Tensor<T> input, int[]? lengths) => Run(input, lengths, null);

    /// <summary>
    /// The same as <see cref="Forward(Tensor{T}, int[])"/> on one-hot vectors of <paramref name="vocabSize"/>
    /// classes, computed by row lookup (x·W for a one-hot x is a row of W): the seed's encoding without building it.
    /// </summary>
    /// <param name="ids">(batch, time) class ids, row-major.</param>
    /// <param name="batch">Sequences in the batch.</param>
    /// <param name="time">Time steps per sequence.</param>
    /// <param name="vocabSize">Number of classes: the layer's input size.</param>
    /// <param name="lengths">One length per sequence, each in 1..time; null for full length.</param>
    /// <returns>(batch, time, output size).</returns>
    /// <exception cref="ArgumentException">Wrong id count, a non-positive size, a vocabulary other than the built input size, or bad lengths.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id within its sequence's length is outside [0, vocabSize) (ids past a length are padding: never read, never checked).</exception>
    public Tensor<T> ForwardOneHot(int[] ids, int batch, int time, int vocabSize, int[]? lengths) => RunOneHot(ids, batch, time, vocabSize, lengths, null);

    /// <inheritdoc cref="ForwardOneHot(int[], int, int, int, int[])"/>
    public Tensor<T> ForwardOneHot(int[] ids, int batch, int time, int vocabSize) => ForwardOneHot(ids, batch, time, vocabSize, null);

    /// <summary>Runs with an initial state per direction (null, or a null entry: that direction's carried state).</summary>
    internal abstract Tensor<T> Run(Tensor<T> input, int[]? lengths, IReadOnlyList<Tensor<T>>?[]? initialStates);

    /// <summary>The one-hot form of <see cref="Run"/>.</summary>
    internal abstract Tensor<T> RunOneHot(int[] ids, int batch, int time, int vocabSize, int[]? lengths, IReadOnlyList<Tensor<T>>?[]? initialStates);

    /// <summary>Alone, a layer is layer 0 of PyTorch's recurrent module: <c>weight_ih_l0</c>, … (and <c>…_l0_reverse</c>).</summary>
    internal override void CollectPyTorch(string prefix, List<PyTorchEntry<T>> entries) => CollectPyTorch(prefix, 0, entries);

    internal override void PrepareForPyTorch(IReadOnlyDictionary<string, int[]> shapes, string prefix) => PrepareForPyTorch(shapes, prefix, 0);

    internal override void PyTorchLayout(IReadOnlyDictionary<string, int[]> shapes, string prefix, List<PyTorchSlot<T>> slots) => PyTorchLayout(shapes, prefix, 0, null, slots);

    internal sealed override IEnumerable<(string Name, int[] Shape)> LoadLayout(IReadOnlyDictionary<string, Tensor<T>> state, string prefix) => LoadLayout(state, prefix, null);

    /// <summary>
    /// The layout (names, shapes) once built, without building: an unbuilt layer expects <paramref name="inputSize"/>
    /// features (what the previous layer outputs) when given, else the size <paramref name="state"/>'s shapes give.
    /// </summary>
    internal abstract IEnumerable<(string Name, int[] Shape)> LoadLayout(IReadOnlyDictionary<string, Tensor<T>> state, string prefix, int? inputSize);

    /// <summary>
    /// The slots of layer <paramref name="layer"/> of a PyTorch recurrent module, every direction, without building.
    /// Every direction reads the same input, so an unbuilt direction expects <paramref name="inputSize"/> (what
    /// the previous layer outputs), else the size a built direction has, else the first <c>weight_ih</c> the dict
    /// has for this layer: a dict whose directions or layers disagree is refused by shape.
    /// </summary>
    internal void PyTorchLayout(IReadOnlyDictionary<string, int[]> shapes, string prefix, int layer, int? inputSize, List<PyTorchSlot<T>> slots)
    {
        int? f = inputSize ?? InputSize ?? Enumerable.Range(0, Directions.Count)
            .Select(d => PyTorchRecurrent.InputSize(shapes, prefix, Suffix(layer, d))).FirstOrDefault(s => s is not null);
        for (int d = 0; d < Directions.Count; d++) PyTorchRecurrent.Layout(Directions[d], prefix, Suffix(layer, d), Directions[d].InputSize ?? f, slots);
    }

    /// <summary>Adds the entries of layer <paramref name="layer"/> of a PyTorch recurrent module, every direction.</summary>
    internal void CollectPyTorch(string prefix, int layer, List<PyTorchEntry<T>> entries)
    {
        for (int d = 0; d < Directions.Count; d++) PyTorchRecurrent.Collect(Directions[d], prefix, Suffix(layer, d), entries);
    }

    /// <summary>Builds every direction from the shapes of layer <paramref name="layer"/>'s <c>weight_ih</c>, if not built yet.</summary>
    internal void PrepareForPyTorch(IReadOnlyDictionary<string, int[]> shapes, string prefix, int layer)
    {
        for (int d = 0; d < Directions.Count; d++)
            if (Directions[d].InputSize is null && PyTorchRecurrent.InputSize(shapes, prefix, Suffix(layer, d)) is int f) Directions[d].Build(f);
    }

    private static string Suffix(int layer, int direction) => $"_l{layer}" + (direction == 1 ? "_reverse" : "");

    /// <summary>A layer's name for messages: the class name without the generic suffix.</summary>
    private protected string Name => GetType().Name[..^2];

    /// <summary>Checks a (batch, time, features) input and the lengths.</summary>
    private protected void CheckInput(Tensor<T> input, int[]? lengths)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3 || input.Length == 0)
            throw new ArgumentException($"{Name}.Forward: input must be (batch, time, features) with no empty axis, got shape {Tensor.FormatShape(input.Shape)}.", nameof(input));
        Sequences.Validate(lengths, input.Size(0), input.Size(1), $"{Name}.Forward");
    }

    /// <summary>
    /// Checks (batch, time) ids, the lengths, and each id within its sequence's length against the vocabulary:
    /// padding may hold anything (e.g. -1), since it is never read.
    /// </summary>
    private protected void CheckIds(int[] ids, int batch, int time, int vocabSize, int[]? lengths)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (batch <= 0 || time <= 0 || ids.Length != batch * time)
            throw new ArgumentException($"{Name}.ForwardOneHot: {ids.Length} ids for batch {batch} × time {time}.", nameof(ids));
        Sequences.Validate(lengths, batch, time, $"{Name}.ForwardOneHot");
        for (int b = 0; b < batch; b++)
            for (int t = 0, n = lengths?[b] ?? time; t < n; t++)
                if ((uint)ids[b * time + t] >= (uint)vocabSize)
                    throw new ArgumentOutOfRangeException(nameof(ids), ids[b * time + t], $"{Name}.ForwardOneHot: id {ids[b * time + t]} at (sequence {b}, step {t}) is outside [0, {vocabSize}).");
    }
}
