using System.Numerics;

namespace Autograd.Nn;

/// <summary>
/// A trainable component. Subclasses keep parameters in typed fields and expose them by name
/// only here, for state dicts and checkpoints; children's names are prefixed (<c>layers.0.W_f</c>).
/// </summary>
public abstract class Module<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>True in training mode (dropout active), false after <see cref="Eval"/>.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>This module's own parameters, in a stable order (none yet for a layer not built).</summary>
    protected virtual IEnumerable<(string Name, Tensor<T> Parameter)> LocalParameters() => [];

    /// <summary>Child modules, in a stable order, with the name that prefixes their parameters.</summary>
    protected virtual IEnumerable<(string Name, Module<T> Child)> Children() => [];

    /// <summary>Every parameter with its state-dict key, depth first, in a stable order.</summary>
    public IEnumerable<(string Name, Tensor<T> Parameter)> NamedParameters()
    {
        foreach (var p in LocalParameters()) yield return p;
        foreach (var (prefix, child) in Children())
            foreach (var (name, p) in child.NamedParameters())
                yield return ($"{prefix}.{name}", p);
    }

    /// <summary>Every parameter, in the order of <see cref="NamedParameters"/>.</summary>
    public IEnumerable<Tensor<T>> Parameters() => NamedParameters().Select(p => p.Parameter);

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters()) p.ZeroGrad();
    }

    /// <summary>The parameters by key (the tensors themselves, not copies).</summary>
    public IReadOnlyDictionary<string, Tensor<T>> StateDict()
    {
        var d = new Dictionary<string, Tensor<T>>();
        foreach (var (name, p) in NamedParameters()) d.Add(name, p);
        return d;
    }

    /// <summary>
    /// Copies values into the parameters. Layers not yet built are built from the shapes in
    /// <paramref name="state"/> first. All or nothing: every key and shape is checked against the layout
    /// the module would have before anything is built or copied, so a refused dict leaves the module
    /// exactly as it was (an unbuilt layer stays unbuilt).
    /// </summary>
    /// <param name="state">Tensors keyed as <see cref="StateDict"/> keys them; their values are copied.</param>
    /// <exception cref="ArgumentNullException"><paramref name="state"/> is null.</exception>
    /// <exception cref="ArgumentException">A key is missing, extra, null, or has the wrong shape (the message names it).</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor<T>> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var (key, value) in state)
            if (value is null)
                throw new ArgumentException($"LoadStateDict: key '{key}' holds null.", nameof(state));
        var layout = LoadLayout(state, "").ToDictionary(p => p.Name, p => p.Shape, StringComparer.Ordinal);
        foreach (var (name, shape) in layout)
        {
            if (!state.TryGetValue(name, out var v))
                throw new ArgumentException($"LoadStateDict: missing key '{name}' (expected shape {Tensor.FormatShape(shape)}).", nameof(state));
            if (!v.Shape.SequenceEqual(shape))
                throw new ArgumentException($"LoadStateDict: key '{name}' has shape {Tensor.FormatShape(v.Shape)}, expected {Tensor.FormatShape(shape)}.", nameof(state));
        }
        foreach (var key in state.Keys)
            if (!layout.ContainsKey(key))
                throw new ArgumentException($"LoadStateDict: unexpected key '{key}'.", nameof(state));
        PrepareForLoad(state, "");
        foreach (var (name, p) in NamedParameters()) p.CopyFrom(state[name]);
    }

    /// <summary>
    /// The parameter names and shapes this module will have once <see cref="PrepareForLoad"/> has run on
    /// <paramref name="state"/>, computed without building anything: by default the current parameters.
    /// </summary>
    internal virtual IEnumerable<(string Name, int[] Shape)> LoadLayout(IReadOnlyDictionary<string, Tensor<T>> state, string prefix)
    {
        foreach (var (name, p) in LocalParameters()) yield return (prefix + name, p.Shape.ToArray());
        foreach (var (name, child) in Children())
            foreach (var entry in child.LoadLayout(state, $"{prefix}{name}."))
                yield return entry;
    }

    /// <summary>
    /// The parameters under the names and in the layout PyTorch's equivalent module uses in its
    /// <c>state_dict()</c> (<c>weight_ih_l0</c>, <c>bias_hh_l1_reverse</c>, <c>head.weight</c>, …), as new tensors,
    /// in PyTorch's order. Recurrent stacks map to <c>nn.RNN</c>/<c>nn.GRU</c>/<c>nn.LSTM</c>, <see cref="Linear{T}"/>
    /// to <c>nn.Linear</c>, <see cref="Embedding{T}"/> to <c>nn.Embedding</c>; other modules' own parameters keep their names.
    /// </summary>
    /// <exception cref="InvalidOperationException">A layer is not built, or has no PyTorch equivalent (the message says why).</exception>
    public IReadOnlyDictionary<string, Tensor<T>> PyTorchStateDict()
    {
        var d = new Dictionary<string, Tensor<T>>(StringComparer.Ordinal);
        foreach (var e in PyTorchEntries()) d.Add(e.Name, Tensor.FromArray(e.Read(), e.Shape));
        return d;
    }

    /// <summary>
    /// Copies a PyTorch <c>state_dict</c> (names and layouts as <see cref="PyTorchStateDict"/> gives them) into
    /// the parameters, exactly. Layers not yet built are built from its shapes, but only once every name, shape
    /// and value has been checked against the layout the module would have: a refused dict changes nothing (an
    /// unbuilt layer stays unbuilt).
    /// </summary>
    /// <exception cref="ArgumentException">Names are missing or unknown, shapes differ, or a value cannot be held (the message names them).</exception>
    /// <exception cref="InvalidOperationException">A layer has no PyTorch equivalent (the message says why).</exception>
    public void LoadPyTorchStateDict(IReadOnlyDictionary<string, Tensor<T>> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.FirstOrDefault(p => p.Value is null) is { Key: { } nullKey })
            throw new ArgumentException($"LoadPyTorchStateDict: '{nullKey}' is null.", nameof(state));
        var shapes = state.ToDictionary(p => p.Key, p => p.Value.Shape.ToArray(), StringComparer.Ordinal);
        // Checked against the layout the module will have, computed without building: building first would
        // leave layers built (with random weights) when the dict is then refused.
        var slots = new List<PyTorchSlot<T>>();
        PyTorchLayout(shapes, "", slots);
        ThrowIfDuplicate(slots.Select(s => s.Name));
        var problems = new List<string>();
        foreach (var s in slots)
        {
            if (!state.TryGetValue(s.Name, out var v)) problems.Add($"missing '{s.Name}' (expected shape {s.ShapeText})");
            else if (!s.Fits(v.Shape)) problems.Add($"'{s.Name}' has shape {Tensor.FormatShape(v.Shape)}, expected {s.ShapeText}");
            else if (s.Check?.Invoke(v.AsSpan()) is { } why) problems.Add($"'{s.Name}' {why}");
        }
        var known = slots.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var key in state.Keys.Order(StringComparer.Ordinal))
            if (!known.Contains(key)) problems.Add($"unknown name '{key}'");
        if (problems.Count > 0)
            throw new ArgumentException($"LoadPyTorchStateDict: {string.Join("; ", problems)}.", nameof(state));
        PrepareForPyTorch(shapes, "");
        foreach (var e in PyTorchEntries()) e.Write(state[e.Name].AsSpan());
    }

    /// <summary>This module's parameters as PyTorch entries, in PyTorch's order.</summary>
    internal List<PyTorchEntry<T>> PyTorchEntries()
    {
        var entries = new List<PyTorchEntry<T>>();
        CollectPyTorch("", entries);
        ThrowIfDuplicate(entries.Select(e => e.Name));
        return entries;
    }

    private static void ThrowIfDuplicate(IEnumerable<string> names)
    {
        var duplicate = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new InvalidOperationException($"PyTorchStateDict: two parameters map to the PyTorch name '{duplicate.Key}'.");
    }

    /// <summary>
    /// The PyTorch entries (names, shapes, value checks) this module will have once <see cref="PrepareForPyTorch"/>
    /// has run on <paramref name="shapes"/>, computed without building anything. Must agree with
    /// <see cref="CollectPyTorch"/>: by default the module's own parameters under their names, then the children's.
    /// </summary>
    /// <exception cref="InvalidOperationException">A layer has no PyTorch equivalent.</exception>
    internal virtual void PyTorchLayout(IReadOnlyDictionary<string, int[]> shapes, string prefix, List<PyTorchSlot<T>> slots)
    {
        foreach (var (name, p) in LocalParameters()) slots.Add(new(prefix + name, p.Shape.ToArray()));
        foreach (var (name, child) in Children()) child.PyTorchLayout(shapes, $"{prefix}{name}.", slots);
    }

    /// <summary>Adds this module's PyTorch entries; by default its own parameters under their names, then the children's.</summary>
    internal virtual void CollectPyTorch(string prefix, List<PyTorchEntry<T>> entries)
    {
        foreach (var (name, p) in LocalParameters()) entries.Add(PyTorchEntry<T>.Same(prefix + name, p));
        foreach (var (name, child) in Children()) child.CollectPyTorch($"{prefix}{name}.", entries);
    }

    /// <summary>Lets lazily built modules create their parameters from a PyTorch state dict's shapes.</summary>
    internal virtual void PrepareForPyTorch(IReadOnlyDictionary<string, int[]> shapes, string prefix)
    {
        foreach (var (name, child) in Children()) child.PrepareForPyTorch(shapes, $"{prefix}{name}.");
    }

    /// <summary>Lets lazily built modules create their parameters from a state dict's shapes.</summary>
    internal virtual void PrepareForLoad(IReadOnlyDictionary<string, Tensor<T>> state, string prefix)
    {
        foreach (var (name, child) in Children()) child.PrepareForLoad(state, $"{prefix}{name}.");
    }

    /// <summary>Switches training mode on or off, for this module and its children.</summary>
    /// <param name="on">True for training mode (dropout active), false for evaluation.</param>
    public void Train(bool on = true)
    {
        Training = on;
        foreach (var (_, child) in Children()) child.Train(on);
    }

    /// <summary>Evaluation mode: same as <c>Train(false)</c>.</summary>
    public void Eval() => Train(false);
}
