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

    /// <summary>The optimizer's internal state (moments, step count) keyed <c>{slot}.{parameter index}</c>, for checkpoints.</summary>
    IReadOnlyDictionary<string, Tensor<T>> StateDict();

    /// <summary>Restores what <see cref="StateDict"/> returned.</summary>
    /// <exception cref="ArgumentException">A key is unknown or a shape differs from its parameter's.</exception>
    void LoadStateDict(IReadOnlyDictionary<string, Tensor<T>> state);
}

/// <summary>Shared plumbing: the parameter list, per-parameter state slots, their (de)serialisation.</summary>
public abstract class Optimizer<T> : IOptimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dictionary<string, Tensor<T>?[]> _slots = new();

    /// <summary>Takes the parameter list and creates one state slot per parameter for each name in <paramref name="slotNames"/>.</summary>
    /// <param name="parameters">The tensors to update.</param>
    /// <param name="learningRate">The step size (finite, ≥ 0).</param>
    /// <param name="slotNames">Names of the per-parameter state tensors (e.g. <c>m</c>, <c>v</c>), used as <see cref="StateDict"/> key prefixes.</param>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentException">A null parameter.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The learning rate is negative or not finite.</exception>
    protected Optimizer(IEnumerable<Tensor<T>> parameters, T learningRate, string[] slotNames)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters.ToArray();
        if (Parameters.Any(p => p is null)) throw new ArgumentException($"{GetType().Name[..^2]}: a parameter is null.", nameof(parameters));
        LearningRate = learningRate;
        foreach (var s in slotNames) _slots[s] = new Tensor<T>?[Parameters.Count];
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

    /// <inheritdoc />
    public void Step()
    {
        StepCount++;
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            if (p.Grad is null) continue;
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
            ["step"] = Tensor.FromArray([T.CreateChecked(StepCount)], 1),
        };
        foreach (var (name, slot) in _slots)
            for (int i = 0; i < slot.Length; i++)
                if (slot[i] is { } v) d[$"{name}.{i}"] = Tensor.FromArray(v.ToArray(), Parameters[i].Shape.ToArray());
        return d;
    }

    /// <inheritdoc />
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor<T>> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var loaded = new List<(Tensor<T>?[] Slot, int Index, Tensor<T> Values)>();
        long step = 0;
        foreach (var (key, value) in state)
        {
            if (key == "step") { step = long.CreateChecked(T.Round(value.Item())); continue; }
            int dot = key.LastIndexOf('.');
            if (dot < 0 || !_slots.TryGetValue(key[..dot], out var slot) || !int.TryParse(key[(dot + 1)..], out int i) || (uint)i >= (uint)slot.Length)
                throw new ArgumentException($"{GetType().Name[..^2]}.LoadStateDict: unknown key '{key}'.", nameof(state));
            if (!value.Shape.SequenceEqual(Parameters[i].Shape))
                throw new ArgumentException($"{GetType().Name[..^2]}.LoadStateDict: key '{key}' has shape {Tensor.FormatShape(value.Shape)}, its parameter {Tensor.FormatShape(Parameters[i].Shape)}.", nameof(state));
            loaded.Add((slot, i, Tensor.FromArray(value.ToArray(), value.Shape.ToArray())));
        }
        foreach (var slot in _slots.Values) Array.Clear(slot);
        foreach (var (slot, i, v) in loaded) slot[i] = v;
        StepCount = step;
    }
}
