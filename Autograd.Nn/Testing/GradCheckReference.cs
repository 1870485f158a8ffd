using Autograd.Nn.Reference;

namespace Autograd.Nn.Testing;

/// <summary>What a <see cref="IGradCheckReference"/> is asked to compute: one forward and backward pass.</summary>
/// <param name="Parameters">Every parameter's values by name (row-major copies), as the target names them.</param>
/// <param name="Input">(batch, time, F) row-major.</param>
/// <param name="Batch">B.</param>
/// <param name="Time">T.</param>
/// <param name="State">The initial state, one (batch, size) array per <see cref="GradCheckTarget.State"/> entry.</param>
/// <param name="OutputGradient">d loss / d output, the output's shape, row-major.</param>
public sealed record ReferenceRequest(IReadOnlyDictionary<string, double[]> Parameters, double[] Input, int Batch, int Time,
    IReadOnlyList<double[]> State, double[] OutputGradient);

/// <summary>What a <see cref="IGradCheckReference"/> computed.</summary>
/// <param name="Output">The forward output, row-major (compared with the target's).</param>
/// <param name="ParameterGradients">d loss / d parameter by name; every parameter of the request.</param>
/// <param name="InputGradient">d loss / d input, (batch, time, F).</param>
/// <param name="StateGradients">d loss / d initial state, one (batch, size) array per state entry.</param>
public sealed record ReferenceResult(double[] Output, IReadOnlyDictionary<string, double[]> ParameterGradients, double[] InputGradient,
    IReadOnlyList<double[]> StateGradients);

/// <summary>
/// An independent oracle for <see cref="ModuleGradCheck"/>: a forward and a hand-written backward
/// (no autodiff). Implement it directly, or implement <see cref="IReferenceCell"/> (one step with its
/// own backward) and let <see cref="UnrolledReference"/> walk time.
/// </summary>
public interface IGradCheckReference
{
    /// <summary>Runs forward from the request's parameters, input and state, then backward from its output gradient.</summary>
    ReferenceResult Run(ReferenceRequest request);
}

/// <summary>One time step of a hand-derived recurrent cell: keeps what its backward needs.</summary>
public interface IReferenceStep
{
    /// <summary>x (B, F) and the state in (each (B, size)) → this step's output (B, O) and the state out.</summary>
    (double[] Output, double[][] State) Forward(double[] x, double[][] state, int batch);

    /// <summary>
    /// d output (B, O) and d state out (each (B, size), zeros after the last step) → d x (B, F) and d state in;
    /// adds this step's parameter gradients into the cell's accumulators.
    /// </summary>
    (double[] DX, double[][] DState) Backward(double[] dOutput, double[][] dState);
}

/// <summary>A hand-derived recurrent cell: its parameters as plain arrays and a fresh step node per time step.</summary>
public interface IReferenceCell
{
    /// <summary>F.</summary>
    int InputSize { get; }

    /// <summary>O: each step's output size.</summary>
    int OutputSize { get; }

    /// <summary>Copies the values in and zeroes every gradient accumulator.</summary>
    void Load(IReadOnlyDictionary<string, double[]> parameters);

    /// <summary>The gradient accumulators by parameter name, after the backward passes of the steps.</summary>
    IReadOnlyDictionary<string, double[]> Gradients { get; }

    /// <summary>A node for one step, reading the loaded parameters and adding into the accumulators.</summary>
    IReferenceStep CreateStep();
}

/// <summary>
/// Walks an <see cref="IReferenceCell"/> over time: one step node per time step forward, then
/// back from the last step to the first, carrying the state gradient. Output (batch, time, O).
/// </summary>
public sealed class UnrolledReference(IReferenceCell cell) : IGradCheckReference
{
    private readonly IReferenceCell _cell = cell ?? throw new ArgumentNullException(nameof(cell));

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The input or output gradient has the wrong length.</exception>
    public ReferenceResult Run(ReferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Parameters is null || request.Input is null || request.State is null || request.OutputGradient is null || request.State.Any(s => s is null))
            throw new ArgumentException("UnrolledReference: the request's parameters, input, state and output gradient must not be null.", nameof(request));
        int b = request.Batch, time = request.Time, f = _cell.InputSize, o = _cell.OutputSize;
        if (b <= 0 || time <= 0)
            throw new ArgumentException($"UnrolledReference: batch {b} and time {time} must be positive.", nameof(request));
        if (request.Input.Length != (long)b * time * f)
            throw new ArgumentException($"UnrolledReference: input has {request.Input.Length} values, expected ({b}, {time}, {f}).", nameof(request));
        if (request.OutputGradient.Length != (long)b * time * o)
            throw new ArgumentException($"UnrolledReference: output gradient has {request.OutputGradient.Length} values, expected ({b}, {time}, {o}).", nameof(request));
        _cell.Load(request.Parameters);
        var state = request.State.Select(s => (double[])s.Clone()).ToArray();
        var steps = new IReferenceStep[time];
        var output = new double[b * time * o];
        for (int t = 0; t < time; t++)
        {
            steps[t] = _cell.CreateStep();
            var (y, next) = steps[t].Forward(Gather(request.Input, b, time, t, f), state, b);
            Scatter(y, output, b, time, t, o);
            state = next;
        }
        var dInput = new double[b * time * f];
        var dState = state.Select(s => new double[s.Length]).ToArray();
        for (int t = time - 1; t >= 0; t--)
        {
            var (dx, dPrev) = steps[t].Backward(Gather(request.OutputGradient, b, time, t, o), dState);
            Scatter(dx, dInput, b, time, t, f);
            dState = dPrev;
        }
        var gradients = _cell.Gradients.ToDictionary(p => p.Key, p => (double[])p.Value.Clone(), StringComparer.Ordinal);
        return new ReferenceResult(output, gradients, dInput, dState);
    }

    /// <summary>(B, w) = src[:, t, :] of a (B, T, w) array.</summary>
    private static double[] Gather(double[] src, int batch, int time, int t, int w)
    {
        var dst = new double[batch * w];
        for (int i = 0; i < batch; i++) Array.Copy(src, (i * time + t) * w, dst, i * w, w);
        return dst;
    }

    /// <summary>dst[:, t, :] of a (B, T, w) array = src (B, w).</summary>
    private static void Scatter(double[] src, double[] dst, int batch, int time, int t, int w)
    {
        for (int i = 0; i < batch; i++) Array.Copy(src, i * w, dst, (i * time + t) * w, w);
    }
}

/// <summary>
/// The seed's cells as <see cref="IReferenceCell"/>s: the hand-derived <see cref="RnnNode{T}"/>,
/// <see cref="GruNode{T}"/> (either form) and <see cref="LstmNode{T}"/> on <see cref="ReferenceParameters{T}"/>,
/// with api.md's parameter names. State: <c>h</c>, and <c>c</c> for LSTM.
/// </summary>
public sealed class SeedReferenceCell : IReferenceCell
{
    private readonly ReferenceParameters<double> _p;
    private readonly bool _resetAfter;

    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="gruResetAfter"/> for a cell other than GRU.</exception>
    public SeedReferenceCell(ReferenceCellKind kind, int inputSize, int hiddenSize, int outputSize, bool gruResetAfter = false)
    {
        if (gruResetAfter && kind != ReferenceCellKind.Gru)
            throw new ArgumentException($"SeedReferenceCell: gruResetAfter applies only to GRU, not {kind}.", nameof(gruResetAfter));
        _p = new ReferenceParameters<double>(kind, inputSize, hiddenSize, outputSize);
        _resetAfter = gruResetAfter;
    }

    /// <summary>
    /// The reference for a built layer of ours: same kind, sizes and GRU form. The seed's nodes model the seed's
    /// layers only: one bias per gate and the output projection W_v, B_v.
    /// </summary>
    /// <exception cref="ArgumentException">The layer is not built yet (its input size is unknown).</exception>
    /// <exception cref="NotSupportedException">The layer has recurrent biases (<see cref="RecurrentOptions.RecurrentBias"/>), no output
    /// projection (PyTorch's form), or a cell without a hand-derived node.</exception>
    public static UnrolledReference For(RecurrentLayer<double> layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        if (layer.Options.RecurrentBias)
            throw new NotSupportedException($"SeedReferenceCell.For: the {layer.Cell.Name} layer has recurrent biases (RecurrentOptions.RecurrentBias), which the seed's reference nodes do not have (one bias per gate); check it against finite differences only, or a reference of your own.");
        if (!layer.HasOutputProjection)
            throw new NotSupportedException($"SeedReferenceCell.For: the {layer.Cell.Name} layer has no output projection (W_v, B_v), which the seed's reference nodes always apply; build it with an output size, or use a reference of your own.");
        int f = layer.InputSize ?? throw new ArgumentException("SeedReferenceCell.For: build the layer first (its input size is unknown).", nameof(layer));
        var cell = layer.Cell.SeedReference(f, layer.HiddenSize, layer.OutputSize, layer.Options)
            ?? throw new NotSupportedException($"SeedReferenceCell.For: cell '{layer.Cell.Name}' has no hand-derived reference node.");
        return new UnrolledReference(cell);
    }

    /// <inheritdoc />
    public int InputSize => _p.InputSize;

    /// <inheritdoc />
    public int OutputSize => _p.OutputSize;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">A parameter of the cell is missing, or a length differs.</exception>
    public void Load(IReadOnlyDictionary<string, double[]> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        foreach (var (key, values) in parameters)
            if (values is null) throw new ArgumentException($"SeedReferenceCell.Load: parameters['{key}'] is null.", nameof(parameters));
        foreach (var name in _p.Names)
        {
            if (!parameters.TryGetValue(name, out var v))
                throw new ArgumentException($"SeedReferenceCell: no values for parameter '{name}' (given: {string.Join(", ", parameters.Keys)}).", nameof(parameters));
            _p.SetValue(name, v);
        }
        _p.ZeroGrad();
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, double[]> Gradients => _p.Names.ToDictionary(n => n, _p.Grad, StringComparer.Ordinal);

    /// <inheritdoc />
    public IReferenceStep CreateStep()
    {
        switch (_p.Kind)
        {
            case ReferenceCellKind.Rnn:
                var rnn = new RnnNode<double>(_p);
                return new HiddenStateStep((x, h) => rnn.Forward(x, h), (dy, dh) => rnn.Backward(dy, dh));
            case ReferenceCellKind.Gru:
                var gru = new GruNode<double>(_p, _resetAfter);
                return new HiddenStateStep((x, h) => gru.Forward(x, h), (dy, dh) => gru.Backward(dy, dh));
            default:
                return new LstmStep(new LstmNode<double>(_p));
        }
    }

    /// <summary>A node whose only state is h (RNN, GRU).</summary>
    private sealed class HiddenStateStep(Func<double[], double[], (double[], double[])> forward, Func<double[], double[], (double[], double[])> backward) : IReferenceStep
    {
        public (double[] Output, double[][] State) Forward(double[] x, double[][] state, int batch)
        {
            var (y, h) = forward(x, state[0]);
            return (y, [h]);
        }

        public (double[] DX, double[][] DState) Backward(double[] dOutput, double[][] dState)
        {
            var (dx, dh) = backward(dOutput, dState[0]);
            return (dx, [dh]);
        }
    }

    private sealed class LstmStep(LstmNode<double> node) : IReferenceStep
    {
        public (double[] Output, double[][] State) Forward(double[] x, double[][] state, int batch)
        {
            var (y, h, c) = node.Forward(x, state[0], state[1]);
            return (y, [h, c]);
        }

        public (double[] DX, double[][] DState) Backward(double[] dOutput, double[][] dState)
        {
            var (dx, dh, dc) = node.Backward(dOutput, dState[0], dState[1]);
            return (dx, [dh, dc]);
        }
    }
}
