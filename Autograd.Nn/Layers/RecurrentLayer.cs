using System.Numerics;

namespace Autograd.Nn;

/// <summary>
/// The one unroller behind <see cref="RnnLayer{T}"/>, <see cref="GruLayer{T}"/> and
/// <see cref="LstmLayer{T}"/>, which differ only in their parameters and their step (their
/// <see cref="Cell"/> describes the rest). Input (batch, time, features) → output (batch, time, outputSize):
/// each step's hidden state, projected by the seed's <c>W_v</c>, <c>B_v</c> unless the layer was built
/// without an output size (PyTorch's form). Everything here is composed from engine ops: no backward is
/// written for it.
/// </summary>
public abstract class RecurrentLayer<T> : SequenceLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private Tensor<T>?[]? _carried;
    private Tensor<T>[]? _final;
    private Tensor<T>? _wv, _bv;
    private int? _inputSize;

    /// <summary>Sets the sizes and options; the parameters are created by <see cref="Build"/> or the first input.</summary>
    /// <param name="hiddenSize">H, the size of the hidden state.</param>
    /// <param name="outputSize">O, the size of each step's output (the seed's projection <c>W_v</c> (H, O), <c>B_v</c> (1, O)).</param>
    /// <param name="options">Carry mode, initialisation and cell variants; null for the seed's defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    private protected RecurrentLayer(int hiddenSize, int outputSize, RecurrentOptions? options) : this(hiddenSize, outputSize, options, projection: true) { }

    /// <param name="hiddenSize">H, the size of the hidden state, which is also each step's output (no <c>W_v</c>, <c>B_v</c>).</param>
    /// <param name="options">Carry mode, initialisation and cell variants; null for the seed's defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="hiddenSize"/> is not positive.</exception>
    private protected RecurrentLayer(int hiddenSize, RecurrentOptions? options) : this(hiddenSize, hiddenSize, options, projection: false) { }

    private RecurrentLayer(int hiddenSize, int outputSize, RecurrentOptions? options, bool projection)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        HiddenSize = hiddenSize;
        OutputSize = outputSize;
        HasOutputProjection = projection;
        Options = options ?? RecurrentOptions.Default;
    }

    /// <summary>H.</summary>
    public int HiddenSize { get; }

    /// <summary>O: the output projection's size, or H for a layer without one.</summary>
    public override int OutputSize { get; }

    /// <inheritdoc />
    public override int? InputSize => _inputSize;

    /// <summary>Whether each step's hidden state is projected by <c>W_v</c>, <c>B_v</c> (the seed's layers) or is the output itself (PyTorch's).</summary>
    public bool HasOutputProjection { get; }

    /// <summary>The options the layer was built with.</summary>
    public RecurrentOptions Options { get; }

    /// <summary>The cell this layer runs: its parameter layout, state arity, ONNX and PyTorch mapping.</summary>
    public abstract RecurrentCell Cell { get; }

    /// <summary>Which cell this layer runs.</summary>
    public CellKind Kind => Cell.Kind;

    /// <inheritdoc />
    public override IReadOnlyList<RecurrentLayer<T>> Directions => [this];

    /// <summary>The hidden state the next pass starts from: (1, H), (batch, H) in per-sequence mode, or null for zeros.</summary>
    public Tensor<T>? StartH => ExposedState()[0];

    /// <summary>The LSTM cell state the next pass starts from, as <see cref="StartH"/>; always null for a cell with one state component.</summary>
    public Tensor<T>? StartC => ExposedState() is { Length: > 1 } c ? c[1] : null;

    /// <summary>Every component of the carried state, in <see cref="RecurrentCell.StateNames"/> order (null: zeros).</summary>
    public IReadOnlyList<Tensor<T>?> CarriedState => ExposedState();

    /// <summary>
    /// The state after the last forward pass, one (batch, H) tensor per <see cref="RecurrentCell.StateNames"/>
    /// component (PyTorch's <c>h_n</c>, <c>c_n</c> of this layer): for each sequence, its state after its own last
    /// valid step. Still attached to the graph, so a loss may use it. Null before the first pass.
    /// </summary>
    public IReadOnlyList<Tensor<T>>? FinalState
    {
        get
        {
            _stateExposed = true;
            return _final;
        }
    }

    private Tensor<T>?[] Carried => _carried ??= new Tensor<T>?[Cell.StateNames.Count];

    /// <summary>
    /// Whether a caller may hold the current final or carried state (it read one of the public properties): only state
    /// nobody was given is disposed when a pass or a reset replaces it.
    /// </summary>
    private bool _stateExposed;

    private Tensor<T>?[] ExposedState()
    {
        _stateExposed = true;
        return Carried;
    }

    /// <summary>
    /// Disposes the final and carried state a pass or a reset replaces, unless a caller was given it (their buffers go
    /// back once no graph reads them); the state that replaces it starts out given to nobody.
    /// </summary>
    private void ReleaseReplacedState(Tensor<T>[]? final, Tensor<T>?[] carried)
    {
        if (!_stateExposed)
        {
            foreach (var s in final ?? []) s.Dispose();
            foreach (var s in carried) s?.Dispose();
        }
        _stateExposed = false;
    }

    /// <summary>
    /// The parameters a layer of this kind and these sizes has, by name and shape, in
    /// <see cref="Module{T}.NamedParameters"/> order (api.md's table), for the default options: lets a
    /// loader check a file before building anything.
    /// </summary>
    /// <param name="kind">The cell.</param>
    /// <param name="inputSize">F, the input features.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="outputSize">O.</param>
    /// <returns>Local names (<c>W_f</c>, ..., <c>W_v</c>, <c>B_v</c>) with their shapes, e.g. (F+H, H) for LSTM's <c>W_f</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or <paramref name="kind"/> is unknown.</exception>
    public static IReadOnlyList<(string Name, int[] Shape)> Layout(CellKind kind, int inputSize, int hiddenSize, int outputSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        return [.. RecurrentCell.Get(kind).Parameters(inputSize, hiddenSize, RecurrentOptions.Default), ("W_v", [hiddenSize, outputSize]), ("B_v", [1, outputSize])];
    }

    /// <summary>This layer's parameters by name and shape for <paramref name="inputSize"/> features, in <see cref="Module{T}.NamedParameters"/> order.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputSize"/> is not positive.</exception>
    public IReadOnlyList<(string Name, int[] Shape)> Layout(int inputSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        var cell = Cell.Parameters(inputSize, HiddenSize, Options);
        return HasOutputProjection ? [.. cell, ("W_v", [HiddenSize, OutputSize]), ("B_v", [1, OutputSize])] : cell;
    }

    /// <inheritdoc />
    public override void Build(int inputSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        if (_inputSize is int f)
        {
            if (f != inputSize)
                throw new ArgumentException($"{Name}: built for {f} input features, got {inputSize}.", nameof(inputSize));
            return;
        }
        var rng = new Random(Options.Seed);
        CreateParameters(inputSize, rng);
        if (HasOutputProjection)
        {
            (_wv, _bv) = Options.Init switch
            {
                InitScheme.Seed => (Init.Normal<T>(rng, SeedStd(HiddenSize, OutputSize), HiddenSize, OutputSize), Init.Normal<T>(rng, SeedStd(HiddenSize, OutputSize), 1, OutputSize)),
                InitScheme.PyTorch => (PyTorchUniform(rng, HiddenSize, OutputSize), PyTorchUniform(rng, 1, OutputSize)),
                _ => (Init.XavierUniform<T>(rng, HiddenSize, OutputSize), Tensor.Zeros<T>(1, OutputSize)),
            };
        }
        _inputSize = inputSize;
        foreach (var p in Parameters()) p.RequiresGrad = true;
    }

    /// <inheritdoc />
    public override void ResetState()
    {
        ReleaseReplacedState(_final, Carried);
        Array.Clear(Carried);
        _final = null;
    }

    /// <summary>
    /// Runs the layer from <paramref name="initialState"/> (PyTorch's <c>h_0</c>, <c>c_0</c>) instead of the
    /// carried state; see <see cref="SequenceLayer{T}.Forward(Tensor{T}, int[])"/>. Gradients flow into the
    /// initial state when it requires grad. The carry mode still stores the final state afterwards.
    /// </summary>
    /// <param name="input">(batch, time, features).</param>
    /// <param name="lengths">One length per sequence, each in 1..time; null for full length.</param>
    /// <param name="initialState">One tensor per <see cref="RecurrentCell.StateNames"/> component, each (batch, H) or (1, H); null for the carried state.</param>
    /// <returns>(batch, time, <see cref="OutputSize"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">A bad input shape, bad lengths, or an initial state with a null component, of the wrong arity or shape.</exception>
    public Tensor<T> Forward(Tensor<T> input, int[]? lengths, IReadOnlyList<Tensor<T>>? initialState)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (initialState is not null) Arguments.ThrowIfNullElement(initialState, nameof(initialState), $"{Name}.Forward");
        return Run(input, lengths, initialState is null ? null : [initialState]);
    }

    internal override Tensor<T> Run(Tensor<T> input, int[]? lengths, IReadOnlyList<Tensor<T>>?[]? initialStates)
    {
        CheckInput(input, lengths);
        int b = input.Size(0), t = input.Size(1), f = input.Size(2);
        Build(f);
        // Rows reordered time-major (row t·B + b) before the projection, so each step's slice is a view. Padded
        // rows read an appended zero row instead: masking later multiplies by 0, which would keep a NaN or Inf
        // held in the padding (0·NaN = NaN), so the padding must never reach the arithmetic.
        var rows = PaddedToZeroRow(TimeMajorRows(b, t), lengths, b, t, zeroRow: b * t);
        return Unroll((w, bias) =>
        {
            var x = input.Reshape(b * t, f);
            if (rows.Padded) x = Tensor.Concat(0, x, Tensor.Zeros<T>(1, f));
            return x.IndexSelect(rows.Rows).MatMul(w) + bias;
        }, b, t, lengths, initialStates?[0]);
    }

    internal override Tensor<T> RunOneHot(int[] ids, int batch, int time, int vocabSize, int[]? lengths, IReadOnlyList<Tensor<T>>?[]? initialStates)
    {
        CheckIds(ids, batch, time, vocabSize, lengths); // padded ids are not checked: they are read as a zero input
        Build(vocabSize);
        var rows = TimeMajorRows(batch, time);
        var timeMajorIds = new int[ids.Length];
        for (int i = 0; i < ids.Length; i++) timeMajorIds[i] = ids[rows[i]];
        // x·W for a zero x is the appended zero row of W, as for padded rows in Run.
        var padded = PaddedToZeroRow(timeMajorIds, lengths, batch, time, zeroRow: vocabSize);
        return Unroll((w, bias) => (padded.Padded ? Tensor.Concat(0, w, Tensor.Zeros<T>(1, w.Size(1))) : w).IndexSelect(padded.Rows) + bias,
            batch, time, lengths, initialStates?[0]);
    }

    /// <summary>
    /// <paramref name="timeMajor"/> (row t·B + b) with every row past its sequence's length replaced by
    /// <paramref name="zeroRow"/>; unchanged (not copied) when nothing is padded.
    /// </summary>
    private static (int[] Rows, bool Padded) PaddedToZeroRow(int[] timeMajor, int[]? lengths, int batch, int time, int zeroRow)
    {
        if (lengths is null || lengths.Min() == time) return (timeMajor, false);
        var rows = (int[])timeMajor.Clone();
        for (int t = 0; t < time; t++)
            for (int b = 0; b < batch; b++)
                if (t >= lengths[b]) rows[t * batch + b] = zeroRow;
        return (rows, true);
    }

    private int[]? _timeMajorRows;

    /// <summary>Row t·B + b of the result is row b·T + t of a batch-major (B·T, ·) matrix: the permutation to time-major.</summary>
    private int[] TimeMajorRows(int batch, int time)
    {
        if (_timeMajorRows is { } cached && cached.Length == batch * time && (batch == 1 || cached[1] == time)) return cached;
        var rows = new int[batch * time];
        for (int t = 0; t < time; t++)
            for (int b = 0; b < batch; b++) rows[t * batch + b] = b * time + t;
        return _timeMajorRows = rows;
    }

    /// <summary>Runs the cell over time from the projected inputs.</summary>
    /// <param name="project">Makes the (T·B, G·H) input projection, time-major, from the fused input weights and biases.</param>
    /// <param name="batch">B.</param>
    /// <param name="time">T.</param>
    /// <param name="lengths">Per-sequence lengths, or null for full length.</param>
    /// <param name="initialState">One tensor per state component, or null for the carried state.</param>
    private Tensor<T> Unroll(Func<Tensor<T>, Tensor<T>, Tensor<T>> project, int batch, int time, int[]? lengths, IReadOnlyList<Tensor<T>>? initialState)
    {
        var state = InitialState(batch, initialState);
        int steps = lengths is null ? time : lengths.Max();
        int allRunning = lengths is null ? time : lengths.Min(); // steps before this need no mask
        var hs = new Tensor<T>[time];
        Tensor<T>? projected = null;
        using (Tensor.Recycling())
        {
            var (w, bias) = InputProjection();
            var xs = project(w, bias).Reshape(time, batch, -1);
            RunSteps(CreateStep(), xs, state, hs, lengths, allRunning, steps);
            if (steps < time)
            {
                var zeros = Tensor.Zeros<T>(batch, HiddenSize); // every sequence has ended
                for (int t = steps; t < time; t++) hs[t] = zeros;
            }
            if (HasOutputProjection)
            {
                // The seed's output projection; padded steps stay zero, as PyTorch's packed output is.
                projected = Tensor.Stack(1, hs).Reshape(batch * time, HiddenSize).MatMul(_wv!) + _bv!;
                if (lengths is not null && allRunning < time) projected *= Sequences.Mask<T>(lengths, time).Reshape(batch * time, 1);
            }
        }
        // What escapes (final state, carried state, output) must not go back to the pool when backward has run: the
        // final state is exempted from the scope, the carried state is a detached view of it, and the output is a
        // view made outside the scope, which holds the projection's buffer until the caller disposes it.
        foreach (var s in state) s.KeepAfterBackward();
        var (previousFinal, previousCarried) = (_final, (Tensor<T>?[])Carried.Clone());
        _final = state;
        StoreState(state);
        ReleaseReplacedState(previousFinal, previousCarried);
        return projected is null ? Tensor.Stack(1, hs) : projected.Reshape(batch, time, OutputSize);
    }

    /// <summary>
    /// Steps 0 .. <paramref name="steps"/>-1. Where some sequences have ended, their state is kept and their
    /// output is zero: h' = m ⊙ step(h) + (1 − m) ⊙ h with a constant (B, 1) mask m, so no gradient reaches an
    /// ended step. Before <paramref name="allRunning"/> no sequence has ended and no mask is applied.
    /// </summary>
    private static void RunSteps(IRecurrentStep<T> step, Tensor<T> xs, Tensor<T>[] state, Tensor<T>[] hs, int[]? lengths, int allRunning, int steps)
    {
        int batch = xs.Size(1);
        for (int t = 0; t < steps; t++)
        {
            var x = xs.Slice(0, t, 1).Reshape(batch, -1); // xs is time-major: a view, no copy
            if (lengths is null || t < allRunning)
            {
                step.Step(x, state);
                hs[t] = state[0];
                continue;
            }
            var (mask, keep) = StepMasks(lengths, t);
            var previous = (Tensor<T>[])state.Clone();
            step.Step(x, state);
            for (int k = 0; k < state.Length; k++)
            {
                var valid = mask * state[k];
                if (k == 0) hs[t] = valid;
                state[k] = valid + keep * previous[k];
            }
        }
    }

    /// <summary>The (B, 1) masks of step t: 1 / 0 for sequences still running, and their complement.</summary>
    private static (Tensor<T> Mask, Tensor<T> Keep) StepMasks(int[] lengths, int t)
    {
        var mask = new T[lengths.Length];
        var keep = new T[lengths.Length];
        for (int b = 0; b < lengths.Length; b++)
        {
            bool running = t < lengths[b];
            mask[b] = running ? T.One : T.Zero;
            keep[b] = running ? T.Zero : T.One;
        }
        return (Tensor.FromArray(mask, lengths.Length, 1), Tensor.FromArray(keep, lengths.Length, 1));
    }

    private Tensor<T>[] InitialState(int batch, IReadOnlyList<Tensor<T>>? given)
    {
        var state = new Tensor<T>[Cell.StateNames.Count];
        if (given is not null)
        {
            CheckInitialState(given, batch, "initialState");
            for (int k = 0; k < state.Length; k++) state[k] = given[k];
            return state;
        }
        bool usable = Options.Carry switch
        {
            CarryMode.BatchMean => true,
            CarryMode.PerSequence => Carried[0] is not { } h || h.Size(0) == batch || h.Size(0) == 1,
            _ => false,
        };
        var zeros = Tensor.Zeros<T>(1, HiddenSize);
        for (int k = 0; k < state.Length; k++) state[k] = usable ? Carried[k] ?? zeros : zeros;
        return state;
    }

    /// <summary>Checks an initial state given for a batch of <paramref name="batch"/>: one (batch, H) or (1, H) tensor per state component.</summary>
    /// <param name="given">The state.</param>
    /// <param name="batch">B.</param>
    /// <param name="parameter">The public parameter it came from, for the exception.</param>
    internal void CheckInitialState(IReadOnlyList<Tensor<T>> given, int batch, string parameter)
    {
        var names = Cell.StateNames;
        Arguments.ThrowIfNullElement(given, parameter, $"{Name}.Forward");
        if (given.Count != names.Count)
            throw new ArgumentException($"{Name}.Forward: the initial state has {given.Count} component(s) but a {Cell.Name} layer has {names.Count} ({string.Join(", ", names)}).", parameter);
        for (int k = 0; k < names.Count; k++)
        {
            var s = given[k];
            if (s.Rank != 2 || s.Size(1) != HiddenSize || (s.Size(0) != batch && s.Size(0) != 1))
                throw new ArgumentException($"{Name}.Forward: initial state '{names[k]}' must be ({batch}, {HiddenSize}) or (1, {HiddenSize}), got {Tensor.FormatShape(s.Shape)}.", parameter);
        }
    }

    /// <summary>Sets the carried state from the final <paramref name="state"/>, which must no longer be recyclable by a backward pass.</summary>
    private void StoreState(Tensor<T>[] state)
    {
        using var _ = Tensor.NoGrad();
        for (int k = 0; k < state.Length; k++)
        {
            Carried[k] = Options.Carry switch
            {
                CarryMode.BatchMean => state[k].Detach().Mean(0, keepDim: true),
                CarryMode.PerSequence => state[k].Detach(), // a view: it keeps the buffer as long as it is held
                _ => null,
            };
        }
    }

    private static Tensor<T> Copy(Tensor<T> t) => Tensor.FromArray(t.ToArray(), t.Shape.ToArray());

    /// <summary>Sets the carried state directly, e.g. for a sampler priming a model (copies are kept: changing the arguments later changes nothing here).</summary>
    /// <param name="h">Hidden state (n, H): n = 1 broadcasts over any batch, otherwise one row per sequence; null for zeros.</param>
    /// <param name="c">LSTM cell state (n, H), as <paramref name="h"/>; must be null for RNN and GRU layers.</param>
    /// <exception cref="ArgumentException">A state whose last axis is not H, or a cell state on a layer whose cell has none.</exception>
    public void SetState(Tensor<T>? h, Tensor<T>? c = null)
    {
        if (c is not null && Cell.StateNames.Count < 2)
            throw new ArgumentException($"{Name}.SetState: a cell state is for cells with one (LSTM); a {Cell.Name} layer's state is {string.Join(", ", Cell.StateNames)}.", nameof(c));
        var state = new Tensor<T>?[Cell.StateNames.Count];
        state[0] = h;
        if (state.Length > 1) state[1] = c;
        SetCarriedState(state);
    }

    /// <summary>Sets every component of the carried state (copies are kept), in <see cref="RecurrentCell.StateNames"/> order.</summary>
    /// <param name="state">One entry per component, each (n, H) or null for zeros.</param>
    /// <exception cref="ArgumentException">The wrong number of components, or a component whose shape is not (n, H).</exception>
    public void SetCarriedState(IReadOnlyList<Tensor<T>?> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var names = Cell.StateNames;
        if (state.Count != names.Count)
            throw new ArgumentException($"{Name}.SetCarriedState: {state.Count} component(s) for a {Cell.Name} layer, whose state is {string.Join(", ", names)}.", nameof(state));
        for (int k = 0; k < names.Count; k++)
            if (state[k] is { } s && (s.Rank != 2 || s.Size(1) != HiddenSize))
                throw new ArgumentException($"{Name}.SetCarriedState: state '{names[k]}' must be (n, {HiddenSize}), got {Tensor.FormatShape(s.Shape)}.", nameof(state));
        for (int k = 0; k < names.Count; k++) Carried[k] = state[k] is { } s ? Copy(s) : null;
    }

    /// <inheritdoc />
    protected sealed override IEnumerable<(string Name, Tensor<T> Parameter)> LocalParameters()
    {
        if (_inputSize is null) yield break;
        foreach (var p in CellParameters()) yield return p;
        if (!HasOutputProjection) yield break;
        yield return ("W_v", _wv!);
        yield return ("B_v", _bv!);
    }

    internal override void PrepareForLoad(IReadOnlyDictionary<string, Tensor<T>> state, string prefix)
    {
        if (_inputSize is null && InferInputSize(state, prefix) is int f) Build(f);
    }

    /// <summary>F as a state dict's shapes give it, or null when its first cell weight is absent or malformed.</summary>
    internal int? InferInputSize(IReadOnlyDictionary<string, Tensor<T>> state, string prefix)
    {
        // The first cell parameter's rows are F (+ H for a stacked weight): compare with the layout for F = 1.
        var (name, shape) = Cell.Parameters(1, HiddenSize, Options)[0];
        return state.TryGetValue(prefix + name, out var w) && w is not null && w.Rank == 2 && w.Size(0) > shape[0] - 1 ? w.Size(0) - (shape[0] - 1) : null;
    }

    /// <summary>Builds the layer from the shape of <c>{prefix}weight_ih{suffix}</c>, if not built yet.</summary>
    internal void PrepareForPyTorch(IReadOnlyDictionary<string, int[]> shapes, string prefix, string suffix)
    {
        if (_inputSize is null && PyTorchRecurrent.InputSize(shapes, prefix, suffix) is int f) Build(f);
    }

    /// <summary>The cell's gates with their weight blocks and biases, in <see cref="RecurrentCell.GateNames"/> order.</summary>
    /// <exception cref="InvalidOperationException">The layer is not built.</exception>
    public IReadOnlyList<CellGate<T>> Gates()
    {
        if (_inputSize is null)
            throw new InvalidOperationException($"{Name}.Gates: the layer is not built; run a forward pass or call Build(inputSize) first.");
        return CellGates();
    }

    /// <summary>The output projection W_v (H, O) and B_v (1, O), or null for a layer without one (or not built).</summary>
    public (Tensor<T> Weight, Tensor<T> Bias)? OutputProjection => _wv is null ? null : (_wv, _bv!);

    internal override IEnumerable<(string Name, int[] Shape)> LoadLayout(IReadOnlyDictionary<string, Tensor<T>> state, string prefix, int? inputSize)
        => _inputSize is null && (inputSize ?? InferInputSize(state, prefix)) is int f
            ? Layout(f).Select(p => (prefix + p.Name, p.Shape))
            : LocalParameters().Select(p => (prefix + p.Name, p.Parameter.Shape.ToArray()));

    /// <summary>An input weight (F, H) drawn by the configured scheme.</summary>
    private protected Tensor<T> InputWeight(Random rng, int f, int fanIn) => Options.Init switch
    {
        InitScheme.Seed => Init.Normal<T>(rng, SeedStd(fanIn, HiddenSize), f, HiddenSize),
        InitScheme.PyTorch => PyTorchUniform(rng, f, HiddenSize),
        _ => Init.XavierUniform<T>(rng, f, HiddenSize),
    };

    /// <summary>A recurrent weight (H, H) drawn by the configured scheme.</summary>
    private protected Tensor<T> RecurrentWeight(Random rng, int fanIn) => Options.Init switch
    {
        InitScheme.Seed => Init.Normal<T>(rng, SeedStd(fanIn, HiddenSize), HiddenSize, HiddenSize),
        InitScheme.PyTorch => PyTorchUniform(rng, HiddenSize, HiddenSize),
        _ => Init.Orthogonal<T>(rng, HiddenSize),
    };

    /// <summary>A bias (1, H) drawn by the configured scheme (random in the seed's and PyTorch's, zeros otherwise).</summary>
    private protected Tensor<T> Bias(Random rng, int fanIn) => Options.Init switch
    {
        InitScheme.Seed => Init.Normal<T>(rng, SeedStd(fanIn, HiddenSize), 1, HiddenSize),
        InitScheme.PyTorch => PyTorchUniform(rng, 1, HiddenSize),
        _ => Tensor.Zeros<T>(1, HiddenSize),
    };

    /// <summary>The recurrent biases B_h{gate} when <see cref="RecurrentOptions.RecurrentBias"/> is set (drawn after everything else, so other parameters do not move), else none.</summary>
    private protected Tensor<T>[] RecurrentBiases(Random rng, int gates, int fanIn)
    {
        if (!Options.RecurrentBias) return [];
        var b = new Tensor<T>[gates];
        for (int g = 0; g < gates; g++) b[g] = Bias(rng, fanIn);
        return b;
    }

    /// <summary>A seed-layout weight (F+H, H): input rows on top of recurrent rows.</summary>
    private protected Tensor<T> StackedWeight(Random rng, int f)
    {
        using var _ = Tensor.NoGrad();
        return Tensor.Concat(0, InputWeight(rng, f, f + HiddenSize), RecurrentWeight(rng, f + HiddenSize));
    }

    private Tensor<T> PyTorchUniform(Random rng, int rows, int cols)
    {
        T k = T.One / T.Sqrt(T.CreateChecked(HiddenSize));
        return Tensor.Uniform(rng, -k, k, rows, cols);
    }

    /// <summary>The seed's σ for GRU's and LSTM's weights, 0.01; the vanilla RNN overrides it with 2 / (fanIn + fanOut).</summary>
    internal virtual double SeedStd(int fanIn, int fanOut) => 0.01;

    /// <summary>Creates the cell's parameters (all but W_v, B_v) for F = <paramref name="inputSize"/>.</summary>
    private protected abstract void CreateParameters(int inputSize, Random random);

    /// <summary>The cell's parameters, named and ordered as <see cref="RecurrentCell.Parameters"/>.</summary>
    private protected abstract IEnumerable<(string Name, Tensor<T> Parameter)> CellParameters();

    /// <summary>The gates of a built layer.</summary>
    private protected abstract IReadOnlyList<CellGate<T>> CellGates();

    /// <summary>All gates' input weights side by side (F, G·H) and biases (1, G·H), fused once per pass.</summary>
    private protected abstract (Tensor<T> Weight, Tensor<T> Bias) InputProjection();

    /// <summary>A step function holding this pass's fused recurrent weights.</summary>
    private protected abstract IRecurrentStep<T> CreateStep();
}

/// <summary>One time step of a cell: the projected input x·W_x + b (batch, G·H) and the state in, the state out.</summary>
public interface IRecurrentStep<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>
    /// Advances <paramref name="state"/> by one step, replacing its entries: one per
    /// <see cref="RecurrentCell.StateNames"/> component, each (batch or 1, H); entry 0 is the hidden state.
    /// </summary>
    void Step(Tensor<T> projectedInput, Tensor<T>[] state);
}
