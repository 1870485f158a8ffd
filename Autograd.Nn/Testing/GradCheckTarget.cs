namespace Autograd.Nn.Testing;

/// <summary>
/// The module under test in a <see cref="ModuleGradCheck"/>: its parameters by name, its input
/// feature size, the shapes of the state it starts from, and a forward pass from a given state,
/// all in double. Use <see cref="FromLayer"/> for a recurrent layer, <see cref="FromFunction"/> for
/// anything else built from engine ops (your own cell, a stack, a model with a head), or derive.
/// </summary>
public abstract class GradCheckTarget
{
    /// <summary>A name for reports.</summary>
    public abstract string Name { get; }

    /// <summary>F: the input is (batch, time, F).</summary>
    public abstract int InputSize { get; }

    /// <summary>The initial-state tensors the forward pass takes, by name, each (batch, size); empty for a stateless module.</summary>
    public abstract IReadOnlyList<(string Name, int Size)> State { get; }

    /// <summary>Every parameter checked, with the name reports use (and a reference's gradients are keyed by).</summary>
    public abstract IEnumerable<(string Name, Tensor<double> Parameter)> NamedParameters();

    /// <summary>Runs the module from <paramref name="state"/> (one tensor per <see cref="State"/> entry, in order).</summary>
    /// <param name="input">(batch, time, F); its <c>RequiresGrad</c> is set when gradients are wanted.</param>
    /// <param name="state">Initial state, each (batch, size); their <c>RequiresGrad</c> is set when gradients are wanted.</param>
    /// <returns>The output; any shape.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> or <paramref name="state"/> is null.</exception>
    /// <exception cref="ArgumentException">A null state tensor, or not one per <see cref="State"/> entry (the built-in targets).</exception>
    public abstract Tensor<double> Forward(Tensor<double> input, IReadOnlyList<Tensor<double>> state);

    /// <summary>
    /// After <c>Backward</c> on the last <see cref="Forward"/>'s output, the gradient that reached
    /// each initial state (null where none did). The default reads <c>state[i].Grad</c>; a module
    /// that copies its state in (as a recurrent layer's <c>SetState</c> does) overrides it.
    /// </summary>
    public virtual IReadOnlyList<Tensor<double>?> StateGradients(IReadOnlyList<Tensor<double>> state)
    {
        CheckState(state, "StateGradients");
        return state.Select(s => s.Grad).ToArray();
    }

    /// <summary>
    /// A recurrent layer (RNN, GRU, LSTM, or any <see cref="RecurrentLayer{T}"/>) from its public API:
    /// built for <paramref name="inputSize"/> if not yet; each pass starts from the given state (<c>h</c>, and
    /// <c>c</c> for LSTM) as its explicit initial state (<see cref="RecurrentLayer{T}.Forward(Tensor{T}, int[], IReadOnlyList{Tensor{T}})"/>),
    /// so the state gradient is checked whatever the layer's carry mode, and is read from the state tensors themselves.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException">The layer is already built for another input size.</exception>
    public static GradCheckTarget FromLayer(RecurrentLayer<double> layer, int inputSize)
    {
        ArgumentNullException.ThrowIfNull(layer);
        layer.Build(inputSize);
        return new LayerTarget(layer, inputSize);
    }

    /// <summary>Any module built from engine ops, as a function of its input and initial state.</summary>
    /// <param name="name">For reports.</param>
    /// <param name="parameters">The parameters to check, named (e.g. a module's <c>NamedParameters()</c>).</param>
    /// <param name="inputSize">F.</param>
    /// <param name="state">Initial-state tensors by name and size, each (batch, size); empty for none.</param>
    /// <param name="forward">(input (batch, time, F), state) → output. Gradients must flow into the state tensors themselves.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    /// <exception cref="ArgumentException">Duplicate parameter or state names.</exception>
    public static GradCheckTarget FromFunction(string name, IEnumerable<(string Name, Tensor<double> Parameter)> parameters, int inputSize,
        IReadOnlyList<(string Name, int Size)> state, Func<Tensor<double>, IReadOnlyList<Tensor<double>>, Tensor<double>> forward)
        => new FunctionTarget(name, parameters, inputSize, state, forward);

    private sealed class LayerTarget(RecurrentLayer<double> layer, int inputSize) : GradCheckTarget
    {
        public override string Name
        {
            get
            {
                string name = char.ToUpperInvariant(layer.Cell.Name[0]) + layer.Cell.Name[1..];
                string form = layer.Cell.DescribeOptions(layer.Options);
                return form.Length == 0 ? name : $"{name} ({form})";
            }
        }

        public override int InputSize => inputSize;

        public override IReadOnlyList<(string Name, int Size)> State
            => [.. layer.Cell.StateNames.Select(n => (n, layer.HiddenSize))];

        public override IEnumerable<(string Name, Tensor<double> Parameter)> NamedParameters() => layer.NamedParameters();

        public override Tensor<double> Forward(Tensor<double> input, IReadOnlyList<Tensor<double>> state)
        {
            CheckArguments(input, state, State.Count);
            // The explicit initial state, not SetState: a carry mode such as None ignores a carried state, which
            // would make the state gradient zero and its check vacuous.
            return layer.Forward(input, null, state);
        }
    }

    private sealed class FunctionTarget : GradCheckTarget
    {
        private readonly (string Name, Tensor<double> Parameter)[] _parameters;
        private readonly (string Name, int Size)[] _state;
        private readonly Func<Tensor<double>, IReadOnlyList<Tensor<double>>, Tensor<double>> _forward;

        public FunctionTarget(string name, IEnumerable<(string Name, Tensor<double> Parameter)> parameters, int inputSize,
            IReadOnlyList<(string Name, int Size)> state, Func<Tensor<double>, IReadOnlyList<Tensor<double>>, Tensor<double>> forward)
        {
            ArgumentNullException.ThrowIfNull(name);
            ArgumentNullException.ThrowIfNull(parameters);
            ArgumentNullException.ThrowIfNull(state);
            ArgumentNullException.ThrowIfNull(forward);
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
            _parameters = parameters.ToArray();
            for (int i = 0; i < _parameters.Length; i++)
                if (_parameters[i].Name is null || _parameters[i].Parameter is null)
                    throw new ArgumentException($"GradCheckTarget '{name}': parameters[{i}] has a null name or tensor.", nameof(parameters));
            _state = state.ToArray();
            if (_state.Any(s => s.Name is null)) throw new ArgumentException($"GradCheckTarget '{name}': a state name is null.", nameof(state));
            foreach (var (n, size) in _state)
                if (size <= 0) throw new ArgumentOutOfRangeException(nameof(state), size, $"GradCheckTarget '{name}': state '{n}' needs a positive size.");
            var names = _parameters.Select(p => p.Name).Concat(_state.Select(s => s.Name)).ToArray();
            if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
                throw new ArgumentException($"GradCheckTarget '{name}': parameter and state names must be distinct ({string.Join(", ", names)}).", nameof(parameters));
            Name = name;
            InputSize = inputSize;
            _forward = forward;
        }

        public override string Name { get; }

        public override int InputSize { get; }

        public override IReadOnlyList<(string Name, int Size)> State => _state;

        public override IEnumerable<(string Name, Tensor<double> Parameter)> NamedParameters() => _parameters;

        public override Tensor<double> Forward(Tensor<double> input, IReadOnlyList<Tensor<double>> state)
        {
            CheckArguments(input, state, _state.Length);
            return _forward(input, state);
        }
    }

    /// <summary>The checks every <see cref="Forward"/> makes: no nulls, one tensor per state entry.</summary>
    private static void CheckArguments(Tensor<double> input, IReadOnlyList<Tensor<double>> state, int count)
    {
        ArgumentNullException.ThrowIfNull(input);
        CheckState(state, "Forward");
        if (state.Count != count)
            throw new ArgumentException($"GradCheckTarget.Forward: {state.Count} state tensors for {count} state entries.", nameof(state));
    }

    private static void CheckState(IReadOnlyList<Tensor<double>> state, string op)
    {
        ArgumentNullException.ThrowIfNull(state);
        for (int i = 0; i < state.Count; i++)
            if (state[i] is null) throw new ArgumentException($"GradCheckTarget.{op}: state[{i}] is null.", nameof(state));
    }
}
