using System.Globalization;
using System.Numerics;

namespace Autograd.Nn;

/// <summary>An update rule applied to a fixed list of parameters using their gradients.</summary>
public interface IOptimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The step size; may be changed between steps (schedules).</summary>
    T LearningRate { get; set; }

    /// <summary>Updates every parameter that has a gradient; parameters without one are skipped.</summary>
    void Step();

    /// <summary>Clears every parameter's gradient.</summary>
    void ZeroGrad();

    /// <summary>
    /// The optimizer's internal state, for checkpoints: <c>step</c> (the steps taken), and per parameter
    /// index i its state tensors <c>{slot}.{i}</c> (e.g. <c>m.3</c>) and, for rules that use one (Adam), its step count <c>step.{i}</c> (shape (1)).
    /// </summary>
    IReadOnlyDictionary<string, Tensor<T>> StateDict();

    /// <summary>Restores what <see cref="StateDict"/> returned; nothing changes unless every entry checks out.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="state"/> is null.</exception>
    /// <exception cref="ArgumentException">A key is unknown, holds null, a shape differs from its parameter's, a step count is not a non-negative whole number,
    /// or state is given without its step count (the message names the key).</exception>
    void LoadStateDict(IReadOnlyDictionary<string, Tensor<T>> state);
}

/// <summary>
/// Shared plumbing: the parameter list, per-parameter state slots and step counts, their (de)serialisation.
/// </summary>
/// <remarks>
/// Step counts are kept per parameter, as PyTorch's <c>state['step']</c>: a parameter's count advances only
/// at the steps that update it, i.e. when its <see cref="Tensor{T}.Grad"/> is not null. <c>Grad</c> is null
/// only until a backward pass first reaches the parameter (<see cref="Tensor{T}.ZeroGrad"/> zeroes it in
/// place, as PyTorch's <c>zero_grad(set_to_none=False)</c>), so a parameter first reached at step k starts
/// its count there (Adam's bias correction then moves it by about the learning rate, as PyTorch's does),
/// and from then on it is updated, and counted, at every step, with a zero gradient if a pass misses it.
/// </remarks>
public abstract class Optimizer<T> : IOptimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const string StepKey = "step";

    private readonly Dictionary<string, Tensor<T>?[]> _slots = new();
    private readonly long[] _steps;

    /// <summary>Takes the parameter list and creates one state slot per parameter for each name in <paramref name="slotNames"/>.</summary>
    /// <param name="parameters">The tensors to update.</param>
    /// <param name="learningRate">The step size (finite, ≥ 0).</param>
    /// <param name="slotNames">Names of the per-parameter state tensors (e.g. <c>m</c>, <c>v</c>), used as <see cref="StateDict"/> key prefixes.</param>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> or <paramref name="slotNames"/> is null.</exception>
    /// <exception cref="ArgumentException">No parameters (e.g. a lazily built model before its first Forward), a null parameter, or a parameter listed twice.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate is negative or not finite.</exception>
    protected Optimizer(IEnumerable<Tensor<T>> parameters, T learningRate, string[] slotNames)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(slotNames);
        Parameters = parameters.ToArray();
        if (Parameters.Count == 0)
            throw new ArgumentException($"{Name}: the parameter list is empty, so nothing would be trained. A model whose layers are built lazily "
                + "has no parameters before its first Forward: call its Build(inputSize) (or run one Forward) before creating the optimizer.", nameof(parameters));
        var seen = new Dictionary<Tensor<T>, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < Parameters.Count; i++)
        {
            if (Parameters[i] is null) throw new ArgumentException($"{Name}: parameters[{i}] is null.", nameof(parameters));
            if (!seen.TryAdd(Parameters[i], i))
                throw new ArgumentException($"{Name}: parameters[{seen[Parameters[i]]}] and parameters[{i}] are the same tensor: a parameter listed twice would be updated twice per step.", nameof(parameters));
        }
        LearningRate = learningRate;
        foreach (var s in slotNames)
        {
            if (s is null || s == StepKey || s.Contains('.'))
                throw new ArgumentException($"{Name}: '{s ?? "null"}' cannot name a state slot.", nameof(slotNames));
            _slots[s] = new Tensor<T>?[Parameters.Count];
        }
        _steps = new long[Parameters.Count];
    }

    /// <summary>The parameters, in the order given.</summary>
    protected IReadOnlyList<Tensor<T>> Parameters { get; }

    /// <inheritdoc />
    public T LearningRate
    {
        get;
        set
        {
            if (!T.IsFinite(value) || value < T.Zero)
                throw new ArgumentOutOfRangeException(nameof(value), value, $"{GetType().Name[..^2]}: the learning rate must be finite and non-negative.");
            field = value;
        }
    }

    /// <summary>Steps taken so far.</summary>
    public long StepCount { get; protected set; }

    /// <summary>
    /// Whether the update rule reads <see cref="ParameterStepCount"/> (Adam's bias correction), so that
    /// <see cref="StateDict"/> saves the counts (<c>step.{i}</c>); rules that do not (SGD) save none, as PyTorch's.
    /// </summary>
    protected virtual bool UsesStepCounts => false;

    /// <summary>The steps that updated parameter <paramref name="index"/> (those at which it had a gradient), this one included during <see cref="Update"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not a parameter index.</exception>
    public long ParameterStepCount(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Parameters.Count);
        return _steps[index];
    }

    /// <inheritdoc />
    public void Step()
    {
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            if (p.Grad is null) continue;
            _steps[i]++;
            Update(i, p, p.Grad);
        }
    }

    /// <summary>Applies the rule to parameter <paramref name="index"/> in place (see <see cref="ParameterUpdate"/>).</summary>
    protected abstract void Update(int index, Tensor<T> parameter, Tensor<T> gradient);

    /// <summary>A zero-initialised state buffer of the parameter's shape for a slot, created on first use.</summary>
    protected Tensor<T> Slot(string name, int index)
    {
        var slot = _slots[name];
        return slot[index] ??= Tensor.Zeros<T>(Parameters[index].Shape.ToArray());
    }

    /// <inheritdoc />
    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.ZeroGrad();
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, Tensor<T>> StateDict()
    {
        var d = new Dictionary<string, Tensor<T>>
        {
            [StepKey] = Tensor.FromArray([T.CreateChecked(StepCount)], 1),
        };
        for (int i = 0; i < _steps.Length; i++)
            if (UsesStepCounts && _steps[i] > 0) d[$"{StepKey}.{i}"] = Tensor.FromArray([T.CreateChecked(_steps[i])], 1);
        foreach (var (name, slot) in _slots)
            for (int i = 0; i < slot.Length; i++)
                if (slot[i] is { } v) d[$"{name}.{i}"] = Tensor.FromArray(v.ToArray(), Parameters[i].Shape.ToArray());
        return d;
    }

    /// <inheritdoc />
    /// <remarks>
    /// A dict without per-parameter counts (written before they existed) gives every parameter that has
    /// state the global <c>step</c>, which is what the single count meant then. State without the counts it
    /// was accumulated over is refused: slots need <c>step</c>, and once a dict has per-parameter counts, every
    /// parameter with slots needs its <c>step.{i}</c> (for rules that use them), since a missing count would
    /// restart e.g. Adam's bias correction on old moments.
    /// </remarks>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor<T>> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var loaded = new List<(Tensor<T>?[] Slot, int Index, Tensor<T> Values)>();
        long step = 0;
        bool hasStep = false;
        long?[] steps = new long?[Parameters.Count];
        foreach (var (key, value) in state)
        {
            if (value is null)
                throw new ArgumentException($"{Name}.LoadStateDict: key '{key}' holds null.", nameof(state));
            if (key == StepKey) { step = ReadCount(key, value); hasStep = true; continue; }
            int dot = key.LastIndexOf('.');
            if (dot < 0 || !int.TryParse(key.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int i) || i >= Parameters.Count
                || !(key[..dot] == StepKey || _slots.ContainsKey(key[..dot])))
                throw new ArgumentException($"{Name}.LoadStateDict: unknown key '{key}'.", nameof(state));
            if (key[..dot] == StepKey) { steps[i] = ReadCount(key, value); continue; }
            if (!value.Shape.SequenceEqual(Parameters[i].Shape))
                throw new ArgumentException($"{Name}.LoadStateDict: key '{key}' has shape {Tensor.FormatShape(value.Shape)}, its parameter {Tensor.FormatShape(Parameters[i].Shape)}.", nameof(state));
            loaded.Add((_slots[key[..dot]], i, Tensor.FromArray(value.ToArray(), value.Shape.ToArray())));
        }
        bool perParameter = steps.Any(s => s is not null);
        if (loaded.Count > 0 && !hasStep)
            throw new ArgumentException($"{Name}.LoadStateDict: state '{Key(loaded[0])}' is given without the key '{StepKey}' (the steps it was accumulated over).", nameof(state));
        if (perParameter && UsesStepCounts && loaded.FirstOrDefault(l => steps[l.Index] is null) is { Slot: not null } uncounted)
            throw new ArgumentException($"{Name}.LoadStateDict: state '{Key(uncounted)}' is given without its step count '{StepKey}.{uncounted.Index}', while other parameters have theirs.", nameof(state));
        foreach (var slot in _slots.Values) Array.Clear(slot);
        Array.Clear(_steps);
        foreach (var (slot, i, v) in loaded)
        {
            slot[i] = v;
            if (!perParameter) _steps[i] = step;
        }
        for (int i = 0; i < steps.Length; i++)
            if (steps[i] is long n) _steps[i] = n;
        StepCount = step;
    }

    private string Key((Tensor<T>?[] Slot, int Index, Tensor<T> Values) entry) => $"{_slots.First(s => s.Value == entry.Slot).Key}.{entry.Index}";

    /// <summary>A step count from a state dict: one finite, non-negative whole number (exact in double).</summary>
    private long ReadCount(string key, Tensor<T> value)
    {
        double v = value.Length == 1 ? double.CreateChecked(value.ToArray()[0]) : double.NaN;
        if (!(v >= 0 && v <= 1L << 53 && v == Math.Floor(v)))
            throw new ArgumentException($"{Name}.LoadStateDict: key '{key}' must hold one non-negative whole step count, got {Tensor.FormatShape(value.Shape)} {(value.Length == 1 ? v.ToString(CultureInfo.InvariantCulture) : "values")}.", "state");
        return (long)v;
    }

    private string Name => GetType().Name[..^2];
}
