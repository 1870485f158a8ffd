using System.Numerics;

namespace Autograd.Nn;

/// <summary>
/// The one unroller behind <see cref="RnnLayer{T}"/>, <see cref="GruLayer{T}"/> and
/// <see cref="LstmLayer{T}"/>, which differ only in their parameters and their step.
/// Input (batch, time, features) → output (batch, time, outputSize), each step's hidden state
/// projected by the seed's <c>W_v</c>, <c>B_v</c>. Everything here is composed from engine ops:
/// no backward is written for it.
/// </summary>
public abstract class RecurrentLayer<T> : Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>? _startH, _startC;

    /// <summary>Sets the sizes and options; the parameters are created by <see cref="Build"/> or the first input.</summary>
    /// <param name="hiddenSize">H, the size of the hidden state.</param>
    /// <param name="outputSize">O, the size of each step's output.</param>
    /// <param name="options">Carry mode, initialisation and cell variants; null for the seed's defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    protected RecurrentLayer(int hiddenSize, int outputSize, RecurrentOptions? options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        HiddenSize = hiddenSize;
        OutputSize = outputSize;
        Options = options ?? RecurrentOptions.Default;
    }

    /// <summary>H.</summary>
    public int HiddenSize { get; }

    /// <summary>O.</summary>
    public int OutputSize { get; }

    /// <summary>F, known once the layer is built (by its first input or <see cref="Build"/>).</summary>
    public int? InputSize { get; private set; }

    /// <summary>The options the layer was built with.</summary>
    public RecurrentOptions Options { get; }

    /// <summary>Which cell this layer runs.</summary>
    public abstract CellKind Kind { get; }

    /// <summary>The hidden state the next pass starts from: (1, H), (batch, H) in per-sequence mode, or null for zeros.</summary>
    public Tensor<T>? StartH => _startH;

    /// <summary>The LSTM cell state the next pass starts from, as <see cref="StartH"/>; always null for RNN and GRU.</summary>
    public Tensor<T>? StartC => _startC;

    /// <summary>Output projection (H, O).</summary>
    protected Tensor<T> Wv { get; private set; } = null!;

    /// <summary>Output bias (1, O).</summary>
    protected Tensor<T> Bv { get; private set; } = null!;

    /// <summary>
    /// The parameters a layer of this kind and these sizes has, by name and shape, in
    /// <see cref="Module{T}.NamedParameters"/> order (api.md's table): lets a loader check a file
    /// before building anything.
    /// </summary>
    /// <param name="kind">The cell.</param>
    /// <param name="inputSize">F, the input features.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="outputSize">O.</param>
    /// <returns>Local names (<c>W_f</c>, ..., <c>W_v</c>, <c>B_v</c>) with their shapes, e.g. (F+H, H) for LSTM's <c>W_f</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public static IReadOnlyList<(string Name, int[] Shape)> Layout(CellKind kind, int inputSize, int hiddenSize, int outputSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        int f = inputSize, h = hiddenSize;
        (string, int[])[] cell = kind switch
        {
            CellKind.Rnn => [("W_f", [f + h, h]), ("B_f", [1, h])],
            CellKind.Gru => [("W_xr", [f, h]), ("W_xu", [f, h]), ("W_xh", [f, h]), ("W_hr", [h, h]), ("W_hu", [h, h]), ("W_hh", [h, h]),
                             ("B_r", [1, h]), ("B_u", [1, h]), ("B_h", [1, h])],
            _ => [("W_f", [f + h, h]), ("W_i", [f + h, h]), ("W_c", [f + h, h]), ("W_o", [f + h, h]),
                  ("B_f", [1, h]), ("B_i", [1, h]), ("B_c", [1, h]), ("B_o", [1, h])],
        };
        return [.. cell, ("W_v", [h, outputSize]), ("B_v", [1, outputSize])];
    }

    /// <summary>Creates the parameters for <paramref name="inputSize"/> features, if not built yet.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException">Already built for a different input size.</exception>
    public void Build(int inputSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        if (InputSize is int f)
        {
            if (f != inputSize)
                throw new ArgumentException($"{GetType().Name[..^2]}: built for {f} input features, got {inputSize}.", nameof(inputSize));
            return;
        }
        var rng = new Random(Options.Seed);
        CreateParameters(inputSize, rng);
        bool seedInit = Options.Init == InitScheme.Seed;
        Wv = seedInit ? Init.Normal<T>(rng, SeedStd(HiddenSize, OutputSize), HiddenSize, OutputSize) : Init.XavierUniform<T>(rng, HiddenSize, OutputSize);
        Bv = seedInit ? Init.Normal<T>(rng, SeedStd(HiddenSize, OutputSize), 1, OutputSize) : Tensor.Zeros<T>(1, OutputSize);
        InputSize = inputSize;
        foreach (var p in Parameters()) p.RequiresGrad = true;
    }

    /// <summary>Sets the carried state to zeros, as in a freshly built layer.</summary>
    public void ResetState() => _startH = _startC = null;

    /// <summary>Runs the layer over a batch of sequences.</summary>
    /// <param name="input">(batch, time, features).</param>
    /// <returns>(batch, time, outputSize).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">Not rank 3, an empty axis, or a feature size other than the one the layer was built for.</exception>
    public Tensor<T> Forward(Tensor<T> input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3 || input.Length == 0)
            throw new ArgumentException($"{Name}.Forward: input must be (batch, time, features) with no empty axis, got shape {Tensor.FormatShape(input.Shape)}.", nameof(input));
        int b = input.Size(0), t = input.Size(1), f = input.Size(2);
        Build(f);
        Tensor<T> hidden;
        using (Tensor.Recycling())
        {
            var (w, bias) = InputProjection();
            hidden = Unroll(input.Reshape(b * t, f).MatMul(w) + bias, b, t);
        }
        return Project(hidden, b, t);
    }

    /// <summary>
    /// The same as <see cref="Forward(Tensor{T})"/> on one-hot vectors of <paramref name="vocabSize"/>
    /// classes, computed by row lookup (x·W for a one-hot x is a row of W): the seed's encoding without
    /// building it.
    /// </summary>
    /// <param name="ids">(batch, time) class ids, row-major.</param>
    /// <param name="batch">Sequences in the batch.</param>
    /// <param name="time">Time steps per sequence.</param>
    /// <param name="vocabSize">Number of classes (the one-hot width); builds the layer with this input size if it is not built yet.</param>
    /// <returns>(batch, time, outputSize), as <see cref="Forward(Tensor{T})"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="ids"/> is null.</exception>
    /// <exception cref="ArgumentException">Wrong id count, a non-positive size, or a vocabulary other than the built input size.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside [0, vocabSize).</exception>
    public Tensor<T> ForwardOneHot(int[] ids, int batch, int time, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (batch <= 0 || time <= 0 || ids.Length != batch * time)
            throw new ArgumentException($"{Name}.ForwardOneHot: {ids.Length} ids for batch {batch} × time {time}.", nameof(ids));
        Build(vocabSize);
        Tensor<T> hidden;
        using (Tensor.Recycling())
        {
            var (w, bias) = InputProjection();
            hidden = Unroll(w.IndexSelect(ids) + bias, batch, time);
        }
        return Project(hidden, batch, time);
    }

    private Tensor<T> Unroll(Tensor<T> projected, int batch, int time)
    {
        var xs = projected.Reshape(batch, time, -1);
        var (h, c) = InitialState(batch);
        var step = CreateStep();
        var hs = new Tensor<T>[time];
        for (int t = 0; t < time; t++)
        {
            var x = xs.Slice(1, t, 1).Reshape(batch, -1);
            (h, c) = step.Step(x, h, c);
            hs[t] = h;
        }
        StoreState(h, c);
        return Tensor.Stack(1, hs).Reshape(batch * time, HiddenSize);
    }

    /// <summary>The seed's output projection of every step's hidden state, (B·T, H) → (B, T, O).</summary>
    private Tensor<T> Project(Tensor<T> hidden, int batch, int time) => (hidden.MatMul(Wv) + Bv).Reshape(batch, time, OutputSize);

    private (Tensor<T> H, Tensor<T>? C) InitialState(int batch)
    {
        bool usable = Options.Carry switch
        {
            CarryMode.BatchMean => true,
            CarryMode.PerSequence => _startH is null || _startH.Size(0) == batch || _startH.Size(0) == 1,
            _ => false,
        };
        var zeros = Tensor.Zeros<T>(1, HiddenSize);
        var h = usable ? _startH ?? zeros : zeros;
        var c = Kind == CellKind.Lstm ? (usable ? _startC ?? zeros : zeros) : null;
        return (h, c);
    }

    private void StoreState(Tensor<T> h, Tensor<T>? c)
    {
        // The state outlives this pass, so it must not share the pooled buffers of the graph's tensors.
        using var _ = Tensor.NoGrad();
        switch (Options.Carry)
        {
            case CarryMode.BatchMean:
                _startH = h.Detach().Mean(0, keepDim: true);
                _startC = c?.Detach().Mean(0, keepDim: true);
                break;
            case CarryMode.PerSequence:
                _startH = Copy(h);
                _startC = c is null ? null : Copy(c);
                break;
        }
    }

    private static Tensor<T> Copy(Tensor<T> t) => Tensor.FromArray(t.ToArray(), t.Shape.ToArray());

    /// <summary>Sets the carried state directly, e.g. for a sampler priming a model (copies are kept: changing the arguments later changes nothing here).</summary>
    /// <param name="h">Hidden state (n, H): n = 1 broadcasts over any batch, otherwise one row per sequence; null for zeros.</param>
    /// <param name="c">LSTM cell state (n, H), as <paramref name="h"/>; must be null for RNN and GRU layers.</param>
    /// <exception cref="ArgumentException">A state that is not (n, H), or a cell state on a non-LSTM layer.</exception>
    public void SetState(Tensor<T>? h, Tensor<T>? c = null)
    {
        if (h is not null && (h.Rank != 2 || h.Size(1) != HiddenSize))
            throw new ArgumentException($"{Name}.SetState: hidden state must be (n, {HiddenSize}), got {Tensor.FormatShape(h.Shape)}.", nameof(h));
        if (c is not null && (Kind != CellKind.Lstm || c.Rank != 2 || c.Size(1) != HiddenSize))
            throw new ArgumentException($"{Name}.SetState: a cell state (n, {HiddenSize}) is for LSTM layers only, got {Tensor.FormatShape(c.Shape)}.", nameof(c));
        _startH = h is null ? null : Copy(h);
        _startC = c is null ? null : Copy(c);
    }

    /// <inheritdoc />
    protected sealed override IEnumerable<(string Name, Tensor<T> Parameter)> LocalParameters()
    {
        if (InputSize is null) yield break;
        foreach (var p in CellParameters()) yield return p;
        yield return ("W_v", Wv);
        yield return ("B_v", Bv);
    }

    internal override void PrepareForLoad(IReadOnlyDictionary<string, Tensor<T>> state, string prefix)
    {
        if (InputSize is null && InferInputSize(state, prefix) is int f && f > 0) Build(f);
    }

    internal override IEnumerable<(string Name, int[] Shape)> LoadLayout(IReadOnlyDictionary<string, Tensor<T>> state, string prefix)
        => InputSize is null && InferInputSize(state, prefix) is int f && f > 0
            ? Layout(Kind, f, HiddenSize, OutputSize).Select(p => (prefix + p.Name, p.Shape))
            : base.LoadLayout(state, prefix);

    /// <summary>An input weight (F, H) drawn by the configured scheme.</summary>
    private protected Tensor<T> InputWeight(Random rng, int f, int fanIn)
        => Options.Init == InitScheme.Seed ? Init.Normal<T>(rng, SeedStd(fanIn, HiddenSize), f, HiddenSize) : Init.XavierUniform<T>(rng, f, HiddenSize);

    /// <summary>A recurrent weight (H, H) drawn by the configured scheme.</summary>
    private protected Tensor<T> RecurrentWeight(Random rng, int fanIn)
        => Options.Init == InitScheme.Seed ? Init.Normal<T>(rng, SeedStd(fanIn, HiddenSize), HiddenSize, HiddenSize) : Init.Orthogonal<T>(rng, HiddenSize);

    /// <summary>A bias (1, H) drawn by the configured scheme (random in the seed's, zeros otherwise).</summary>
    private protected Tensor<T> Bias(Random rng, int fanIn)
        => Options.Init == InitScheme.Seed ? Init.Normal<T>(rng, SeedStd(fanIn, HiddenSize), 1, HiddenSize) : Tensor.Zeros<T>(1, HiddenSize);

    /// <summary>A seed-layout weight (F+H, H): input rows on top of recurrent rows.</summary>
    private protected Tensor<T> StackedWeight(Random rng, int f)
    {
        using var _ = Tensor.NoGrad();
        return Tensor.Concat(0, InputWeight(rng, f, f + HiddenSize), RecurrentWeight(rng, f + HiddenSize));
    }

    /// <summary>The seed's σ for the vanilla RNN's weights; GRU and LSTM override with 0.01.</summary>
    internal virtual double SeedStd(int fanIn, int fanOut) => 0.01;

    /// <summary>Creates the cell's parameters (all but W_v, B_v) for F = <paramref name="inputSize"/>.</summary>
    protected abstract void CreateParameters(int inputSize, Random random);

    /// <summary>The cell's parameters, named and ordered as api.md's table.</summary>
    protected abstract IEnumerable<(string Name, Tensor<T> Parameter)> CellParameters();

    /// <summary>Reads F from a state dict's shapes (null if the keys are absent).</summary>
    internal abstract int? InferInputSize(IReadOnlyDictionary<string, Tensor<T>> state, string prefix);

    /// <summary>All gates' input weights side by side (F, G·H) and biases (1, G·H), fused once per pass.</summary>
    protected abstract (Tensor<T> Weight, Tensor<T> Bias) InputProjection();

    /// <summary>A step function holding this pass's fused recurrent weights.</summary>
    protected abstract IRecurrentStep<T> CreateStep();

    private string Name => GetType().Name[..^2];
}

/// <summary>One time step of a cell: the projected input x·W_x + b (batch, G·H) and the state in, the state out.</summary>
public interface IRecurrentStep<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Advances the state by one step. <paramref name="h"/> and <paramref name="c"/> are (batch or 1, H).</summary>
    (Tensor<T> H, Tensor<T>? C) Step(Tensor<T> projectedInput, Tensor<T> h, Tensor<T>? c);
}
