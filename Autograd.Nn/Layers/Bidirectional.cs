using System.Numerics;

namespace Autograd.Nn;

/// <summary>
/// Two recurrent layers (any kinds) reading a batch in both directions, as PyTorch's
/// <c>bidirectional=True</c> and Keras' <c>Bidirectional</c>: the forward layer reads each sequence as
/// given; the reverse layer reads it reversed within its own length (steps lengths[b]-1 … 0), and its
/// outputs are put back at the time step they belong to. Output (batch, time, O_forward + O_reverse): the
/// forward layer's features first. Parameters are keyed <c>forward.{name}</c> and <c>reverse.{name}</c>;
/// each direction's final state is its layer's <see cref="RecurrentLayer{T}.FinalState"/> (the reverse
/// direction's is its state after step 0). Stacked in an <see cref="RnnModel{T}"/>, the next layer reads both directions.
/// </summary>
/// <remarks>
/// Each direction keeps its own carry mode; carrying the reverse direction's state from one batch to the
/// next reads the future, so PyTorch-style use sets <see cref="CarryMode.None"/> (as <see cref="RecurrentOptions.PyTorch"/> does).
/// </remarks>
public sealed class Bidirectional<T> : SequenceLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <param name="forwardLayer">Reads the sequences as given.</param>
    /// <param name="reverseLayer">Reads each sequence reversed within its length.</param>
    /// <exception cref="ArgumentException">The two are the same layer, or are built for different input sizes.</exception>
    public Bidirectional(RecurrentLayer<T> forwardLayer, RecurrentLayer<T> reverseLayer)
    {
        ArgumentNullException.ThrowIfNull(forwardLayer);
        ArgumentNullException.ThrowIfNull(reverseLayer);
        if (ReferenceEquals(forwardLayer, reverseLayer))
            throw new ArgumentException("Bidirectional: the forward and reverse layers must be two layers, not the same one.", nameof(reverseLayer));
        if (forwardLayer.InputSize is int a && reverseLayer.InputSize is int b && a != b)
            throw new ArgumentException($"Bidirectional: the forward layer is built for {a} input features, the reverse layer for {b}.", nameof(reverseLayer));
        ForwardLayer = forwardLayer;
        ReverseLayer = reverseLayer;
    }

    /// <summary>The layer that reads the sequences as given.</summary>
    public RecurrentLayer<T> ForwardLayer { get; }

    /// <summary>The layer that reads each sequence reversed within its length.</summary>
    public RecurrentLayer<T> ReverseLayer { get; }

    /// <inheritdoc />
    public override int? InputSize => ForwardLayer.InputSize ?? ReverseLayer.InputSize;

    /// <summary>O_forward + O_reverse.</summary>
    public override int OutputSize => ForwardLayer.OutputSize + ReverseLayer.OutputSize;

    /// <inheritdoc />
    public override IReadOnlyList<RecurrentLayer<T>> Directions => [ForwardLayer, ReverseLayer];

    /// <inheritdoc />
    public override void Build(int inputSize)
    {
        ForwardLayer.Build(inputSize);
        ReverseLayer.Build(inputSize);
    }

    /// <inheritdoc />
    public override void ResetState()
    {
        ForwardLayer.ResetState();
        ReverseLayer.ResetState();
    }

    /// <summary>
    /// Runs both directions from the given initial states (PyTorch's <c>h_0</c> rows of each direction);
    /// see <see cref="SequenceLayer{T}.Forward(Tensor{T}, int[])"/> and <see cref="RecurrentLayer{T}.Forward(Tensor{T}, int[], IReadOnlyList{Tensor{T}})"/>.
    /// </summary>
    /// <param name="input">(batch, time, features).</param>
    /// <param name="lengths">One length per sequence, each in 1..time; null for full length.</param>
    /// <param name="forwardState">The forward layer's initial state, or null for its carried state.</param>
    /// <param name="reverseState">The reverse layer's initial state, or null for its carried state.</param>
    /// <returns>(batch, time, <see cref="OutputSize"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">A bad input shape, bad lengths, or a bad initial state (a null component, the wrong arity or shape).</exception>
    public Tensor<T> Forward(Tensor<T> input, int[]? lengths, IReadOnlyList<Tensor<T>>? forwardState, IReadOnlyList<Tensor<T>>? reverseState)
    {
        // Null arguments first, then shapes; each state's errors name its own parameter.
        ArgumentNullException.ThrowIfNull(input);
        if (forwardState is not null) Arguments.ThrowIfNullElement(forwardState, nameof(forwardState), "Bidirectional.Forward");
        if (reverseState is not null) Arguments.ThrowIfNullElement(reverseState, nameof(reverseState), "Bidirectional.Forward");
        CheckInput(input, lengths);
        if (forwardState is not null) ForwardLayer.CheckInitialState(forwardState, input.Size(0), nameof(forwardState));
        if (reverseState is not null) ReverseLayer.CheckInitialState(reverseState, input.Size(0), nameof(reverseState));
        return Run(input, lengths, [forwardState, reverseState]);
    }

    internal override Tensor<T> Run(Tensor<T> input, int[]? lengths, IReadOnlyList<Tensor<T>>?[]? initialStates)
    {
        CheckInput(input, lengths);
        var forward = ForwardLayer.Run(input, lengths, [initialStates?[0]]);
        var reverse = ReverseLayer.Run(Sequences.Reverse(input, lengths), lengths, [initialStates?[1]]);
        return Tensor.Concat(2, forward, Sequences.Reverse(reverse, lengths));
    }

    internal override Tensor<T> RunOneHot(int[] ids, int batch, int time, int vocabSize, int[]? lengths, IReadOnlyList<Tensor<T>>?[]? initialStates)
    {
        CheckIds(ids, batch, time, vocabSize, lengths);
        var forward = ForwardLayer.RunOneHot(ids, batch, time, vocabSize, lengths, [initialStates?[0]]);
        var rows = Sequences.ReversedRows(lengths, batch, time);
        var reversedIds = new int[ids.Length];
        for (int i = 0; i < rows.Length; i++) reversedIds[i] = ids[rows[i]];
        var reverse = ReverseLayer.RunOneHot(reversedIds, batch, time, vocabSize, lengths, [initialStates?[1]]);
        return Tensor.Concat(2, forward, Sequences.Reverse(reverse, lengths));
    }

    internal override IEnumerable<(string Name, int[] Shape)> LoadLayout(IReadOnlyDictionary<string, Tensor<T>> state, string prefix, int? inputSize)
    {
        // Both directions read the same input: an unbuilt one expects the size a built one has, else the forward
        // weight's, so a dict whose directions disagree is refused by shape instead of building a pair that cannot run.
        int? f = inputSize ?? InputSize ?? ForwardLayer.InferInputSize(state, prefix + "forward.") ?? ReverseLayer.InferInputSize(state, prefix + "reverse.");
        return [.. ForwardLayer.LoadLayout(state, prefix + "forward.", f), .. ReverseLayer.LoadLayout(state, prefix + "reverse.", f)];
    }

    /// <inheritdoc />
    protected override IEnumerable<(string Name, Module<T> Child)> Children()
    {
        yield return ("forward", ForwardLayer);
        yield return ("reverse", ReverseLayer);
    }
}
