using System.Numerics;

namespace Autograd.Nn;

/// <summary>
/// The seed's <c>RNNModel</c>: sequence layers applied in order, any mix of kinds, uni- or bidirectional
/// (<see cref="Bidirectional{T}"/>: the next layer reads both directions, as in PyTorch). Layer i's
/// input size is layer i-1's <see cref="SequenceLayer{T}.OutputSize"/>; the last layer's output size is
/// the model's (e.g. the vocabulary). Parameters are keyed <c>layers.{i}.{name}</c>.
/// </summary>
public sealed class RnnModel<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly SequenceLayer<T>[] _layers;
    private readonly int _dropoutSeed;

    /// <summary>A stack of layers with no dropout.</summary>
    /// <param name="layers">First to last; each layer's input size becomes its predecessor's output size.</param>
    /// <exception cref="ArgumentNullException"><paramref name="layers"/> is null.</exception>
    /// <exception cref="ArgumentException">No layers, a null layer, or a layer listed twice.</exception>
    public RnnModel(params SequenceLayer<T>[] layers) : this(layers, 0.0) { }

    /// <summary>A stack of layers with dropout between them.</summary>
    /// <param name="layers">First to last.</param>
    /// <param name="dropout">Probability of zeroing each value passed between layers, in training mode only.</param>
    /// <param name="seed">Seed for the dropout masks: with <see cref="DropoutMasksDrawn"/>, it determines every mask.</param>
    /// <exception cref="ArgumentNullException"><paramref name="layers"/> is null.</exception>
    /// <exception cref="ArgumentException">No layers, a null layer, or a layer listed twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dropout"/> is outside [0, 1).</exception>
    public RnnModel(IEnumerable<SequenceLayer<T>> layers, double dropout, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(layers);
        _layers = layers.ToArray();
        if (_layers.Length == 0) throw new ArgumentException("RnnModel: needs at least one layer.", nameof(layers));
        Arguments.ThrowIfNullElement(_layers, nameof(layers), "RnnModel");
        if (_layers.SelectMany(l => l.Directions).Distinct().Count() != _layers.Sum(l => l.Directions.Count))
            throw new ArgumentException("RnnModel: a recurrent layer appears twice; each layer needs its own instance.", nameof(layers));
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "RnnModel: dropout must be in [0, 1).");
        Dropout = dropout;
        _dropoutSeed = seed;
    }

    /// <summary>
    /// The equivalent of PyTorch's <c>nn.RNN</c>/<c>nn.GRU</c>/<c>nn.LSTM(input_size, hidden_size, num_layers,
    /// bidirectional=…, batch_first=True)</c>: <paramref name="layers"/> layers of <paramref name="cell"/> without
    /// an output projection (each a <see cref="Bidirectional{T}"/> pair when <paramref name="bidirectional"/>),
    /// built lazily from the first input. Layer k's directions draw their weights with seeds
    /// <c>options.Seed + 2k</c> (forward) and <c>+ 2k + 1</c> (reverse).
    /// </summary>
    /// <param name="cell">The cell kind.</param>
    /// <param name="hiddenSize">H of every layer and direction.</param>
    /// <param name="layers">num_layers.</param>
    /// <param name="bidirectional">Two directions per layer; the output then has 2·H features.</param>
    /// <param name="options">Null for <see cref="RecurrentOptions.PyTorch"/> (its semantics and initialisation).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or the cell kind is unknown.</exception>
    public static RnnModel<T> Stack(CellKind cell, int hiddenSize, int layers = 1, bool bidirectional = false, RecurrentOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layers);
        var c = RecurrentCell.Get(cell);
        var o = options ?? RecurrentOptions.PyTorch;
        var stack = new SequenceLayer<T>[layers];
        for (int k = 0; k < layers; k++)
        {
            var forward = c.CreateLayer<T>(hiddenSize, o with { Seed = unchecked(o.Seed + 2 * k) });
            stack[k] = bidirectional ? new Bidirectional<T>(forward, c.CreateLayer<T>(hiddenSize, o with { Seed = unchecked(o.Seed + 2 * k + 1) })) : forward;
        }
        return new RnnModel<T>(stack);
    }

    /// <summary>The layers, first to last.</summary>
    public IReadOnlyList<SequenceLayer<T>> Layers => _layers;

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
    public Tensor<T> Forward(Tensor<T> input) => Forward(input, null);

    /// <summary>
    /// Runs every layer over a padded batch of sequences of different lengths (PyTorch's packed sequences):
    /// see <see cref="SequenceLayer{T}.Forward(Tensor{T}, int[])"/>. Outputs past a sequence's length are zero.
    /// </summary>
    /// <param name="input">(batch, time, features).</param>
    /// <param name="lengths">One length per sequence, each in 1..time; null for full length.</param>
    /// <exception cref="ArgumentException">A bad input shape, or lengths of the wrong count or outside 1..time.</exception>
    public Tensor<T> Forward(Tensor<T> input, int[]? lengths)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Run(input, null, 0, 0, 0, lengths, null);
    }

    /// <summary>
    /// As <see cref="Forward(Tensor{T}, int[])"/>, from an initial state laid out as PyTorch's <c>h_0</c> (and
    /// <c>c_0</c>): one tensor per state component, each (layers·directions, batch, H) with row
    /// <c>layer·directions + direction</c>. Every layer must have the same cell state arity, H and direction count.
    /// The final states, laid out the same way, are then in <see cref="FinalState"/>.
    /// </summary>
    /// <param name="input">(batch, time, features).</param>
    /// <param name="lengths">One length per sequence, each in 1..time; null for full length.</param>
    /// <param name="initialState">One tensor per component (<c>h_0</c>; <c>h_0</c>, <c>c_0</c> for LSTM); null for the carried state.</param>
    /// <returns>(batch, time, the last layer's output size).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">A bad input, lengths or initial state (a null component, count or shape), or layers that differ in arity, H or directions.</exception>
    public Tensor<T> Forward(Tensor<T> input, int[]? lengths, IReadOnlyList<Tensor<T>>? initialState)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (initialState is not null) Arguments.ThrowIfNullElement(initialState, nameof(initialState), "RnnModel.Forward");
        return Run(input, null, 0, 0, 0, lengths, initialState);
    }

    /// <summary>As <see cref="Forward(Tensor{T})"/> on one-hot input given as (batch, time) class ids, row-major.</summary>
    /// <param name="ids">batch × time class ids, row-major.</param>
    /// <param name="batch">Sequences in the batch.</param>
    /// <param name="time">Time steps per sequence.</param>
    /// <param name="vocabSize">Number of classes: the first layer's input size.</param>
    /// <returns>(batch, time, O) where O is the last layer's output size.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="ids"/> is null.</exception>
    /// <exception cref="ArgumentException">Wrong id count or sizes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id within its sequence's length outside [0, vocabSize) (ids past a length are padding: never read, never checked).</exception>
    public Tensor<T> ForwardOneHot(int[] ids, int batch, int time, int vocabSize) => ForwardOneHot(ids, batch, time, vocabSize, null);

    /// <summary>As <see cref="Forward(Tensor{T}, int[])"/> on one-hot input given as (batch, time) class ids, row-major.</summary>
    /// <exception cref="ArgumentException">Wrong id count or sizes, or bad lengths.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id within its sequence's length outside [0, vocabSize) (ids past a length are padding: never read, never checked).</exception>
    public Tensor<T> ForwardOneHot(int[] ids, int batch, int time, int vocabSize, int[]? lengths)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return Run(null, ids, batch, time, vocabSize, lengths, null);
    }

    /// <summary>
    /// The final states of the last forward pass laid out as PyTorch's <c>h_n</c> (and <c>c_n</c>): one tensor per
    /// state component, (layers·directions, batch, H), row <c>layer·directions + direction</c>; each sequence's state
    /// after its own last valid step (the reverse direction's: after step 0). Still attached to the graph.
    /// </summary>
    /// <exception cref="InvalidOperationException">No forward pass has run, or the layers differ in arity, H or directions.</exception>
    public IReadOnlyList<Tensor<T>> FinalState
    {
        get
        {
            var (arity, _, _) = Uniform("FinalState", e => new InvalidOperationException(e));
            var directions = _layers.SelectMany(l => l.Directions).ToArray();
            if (directions.Any(d => d.FinalState is null))
                throw new InvalidOperationException("RnnModel.FinalState: no forward pass has run yet.");
            var result = new Tensor<T>[arity];
            for (int k = 0; k < arity; k++) result[k] = Tensor.Stack(0, directions.Select(d => d.FinalState![k]).ToArray());
            return result;
        }
    }

    private Tensor<T> Run(Tensor<T>? input, int[]? ids, int batch, int time, int vocabSize, int[]? lengths, IReadOnlyList<Tensor<T>>? initialState)
    {
        var states = initialState is null ? null : SplitState(initialState, input?.Rank == 3 ? input.Size(0) : batch);
        int row = 0;
        Tensor<T> x = null!;
        for (int i = 0; i < _layers.Length; i++)
        {
            var layer = _layers[i];
            var layerStates = states?[row..(row + layer.Directions.Count)];
            row += layer.Directions.Count;
            if (i == 0)
            {
                x = input is not null ? layer.Run(input, lengths, layerStates) : layer.RunOneHot(ids!, batch, time, vocabSize, lengths, layerStates);
                continue;
            }
            var dropped = Drop(x);
            var next = layer.Run(dropped, lengths, layerStates);
            // Only the next layer reads what passes between layers: the buffers go back to the pool once the
            // backward pass has run the ops that read them (Dispose waits for that).
            if (!ReferenceEquals(dropped, x)) dropped.Dispose();
            x.Dispose();
            x = next;
        }
        return x;
    }

    /// <summary>PyTorch's (layers·directions, batch, H) per component → per direction, a (batch, H) per component.</summary>
    private IReadOnlyList<Tensor<T>>?[] SplitState(IReadOnlyList<Tensor<T>> initialState, int batch)
    {
        var (arity, hidden, rows) = Uniform("Forward", e => new ArgumentException(e, nameof(initialState)));
        if (initialState.Count != arity)
            throw new ArgumentException($"RnnModel.Forward: the initial state has {initialState.Count} component(s); the layers' state has {arity}.", nameof(initialState));
        foreach (var s in initialState)
        {
            if (s.Rank != 3 || s.Size(0) != rows || s.Size(1) != batch || s.Size(2) != hidden)
                throw new ArgumentException($"RnnModel.Forward: an initial state component must be (layers·directions = {rows}, batch = {batch}, H = {hidden}), got {Tensor.FormatShape(s.Shape)}.", nameof(initialState));
        }
        var split = new IReadOnlyList<Tensor<T>>?[rows];
        for (int r = 0; r < rows; r++) split[r] = initialState.Select(s => s.Slice(0, r, 1).Reshape(batch, hidden)).ToArray();
        return split;
    }

    /// <summary>The common state arity, H and row count (layers·directions), or the error from <paramref name="error"/>.</summary>
    private (int Arity, int Hidden, int Rows) Uniform(string member, Func<string, Exception> error)
    {
        var directions = _layers.SelectMany(l => l.Directions).ToArray();
        int arity = directions[0].Cell.StateNames.Count, hidden = directions[0].HiddenSize, dirs = _layers[0].Directions.Count;
        if (directions.Any(d => d.Cell.StateNames.Count != arity || d.HiddenSize != hidden) || _layers.Any(l => l.Directions.Count != dirs))
            throw error($"RnnModel.{member}: a stacked (layers·directions, batch, H) state needs every layer to have the same state components, hidden size and direction count.");
        return (arity, hidden, directions.Length);
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

    internal override IEnumerable<(string Name, int[] Shape)> LoadLayout(IReadOnlyDictionary<string, Tensor<T>> state, string prefix)
    {
        // Layer k reads layer k-1's output, so that is the input size its weights must have.
        for (int k = 0; k < _layers.Length; k++)
            foreach (var entry in _layers[k].LoadLayout(state, $"{prefix}layers.{k}.", k == 0 ? null : _layers[k - 1].OutputSize))
                yield return entry;
    }

    /// <summary>The stack is one PyTorch recurrent module: layer k's parameters are <c>weight_ih_l{k}</c>, ….</summary>
    internal override void CollectPyTorch(string prefix, List<PyTorchEntry<T>> entries)
    {
        CheckPyTorchUniform(prefix);
        for (int k = 0; k < _layers.Length; k++) _layers[k].CollectPyTorch(prefix, k, entries);
    }

    internal override void PyTorchLayout(IReadOnlyDictionary<string, int[]> shapes, string prefix, List<PyTorchSlot<T>> slots)
    {
        CheckPyTorchUniform(prefix);
        // Layer k reads layer k-1's output, so that is the input size its weight_ih must have.
        for (int k = 0; k < _layers.Length; k++) _layers[k].PyTorchLayout(shapes, prefix, k, k == 0 ? null : _layers[k - 1].OutputSize, slots);
    }

    /// <exception cref="InvalidOperationException">The layers differ in cell kind, hidden size or direction count.</exception>
    private void CheckPyTorchUniform(string prefix)
    {
        var directions = _layers.SelectMany(l => l.Directions).ToArray();
        var cell = directions[0].Cell;
        if (directions.Any(d => d.Cell != cell) || _layers.Any(l => l.Directions.Count != _layers[0].Directions.Count) || directions.Any(d => d.HiddenSize != directions[0].HiddenSize))
            throw new InvalidOperationException($"PyTorchStateDict: the stack at '{prefix}' mixes cell kinds, hidden sizes or direction counts; torch.nn.{cell.PyTorchModule} has one of each for all its layers.");
    }

    internal override void PrepareForPyTorch(IReadOnlyDictionary<string, int[]> shapes, string prefix)
    {
        for (int k = 0; k < _layers.Length; k++) _layers[k].PrepareForPyTorch(shapes, prefix, k);
    }

    private T[]? _mask;

    private Tensor<T> Drop(Tensor<T> x)
    {
        if (!Training || Dropout == 0) return x;
        // Inverted dropout: kept values are scaled by 1/(1-p) so evaluation needs no rescaling. The host buffer
        // is reused (FromArray copies it); each 64-bit draw decides two elements by its 32-bit halves.
        var mask = _mask is { } m && m.Length >= x.Length ? _mask : _mask = new T[x.Length];
        T keep = T.One / T.CreateChecked(1 - Dropout);
        uint threshold = (uint)Math.Min(uint.MaxValue, Math.Round(Dropout * 4294967296.0));
        // SplitMix64 started from (seed, mask number): a generator whose whole state is one counter.
        ulong state = Mix(((ulong)(uint)_dropoutSeed << 32) ^ Mix((ulong)DropoutMasksDrawn++));
        int n = x.Length;
        for (int i = 0; i < n; i += 2)
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong bits = Mix(state);
            mask[i] = (uint)bits >= threshold ? keep : T.Zero;
            if (i + 1 < n) mask[i + 1] = (uint)(bits >> 32) >= threshold ? keep : T.Zero;
        }
        var maskTensor = Tensor.FromSpan<T>(mask.AsSpan(0, n), x.Shape.ToArray());
        var dropped = x * maskTensor;
        maskTensor.Dispose(); // back to the pool once backward has run the product (its only reader)
        return dropped;
    }

    /// <summary>SplitMix64's finaliser.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
