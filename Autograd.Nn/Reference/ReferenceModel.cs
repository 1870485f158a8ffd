using System.Numerics;

namespace Autograd.Nn.Reference;

/// <summary>
/// A stack of <see cref="ReferenceLayer{T}"/>s run in order (seed.md section 3), with a state dict keyed
/// <c>layers.{i}.{name}</c> like a model's. Plain arrays, no autodiff.
/// </summary>
public sealed class ReferenceModel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ReferenceLayer<T>[] _layers;
    private readonly Dictionary<string, (ReferenceParameters<T> Parameters, string Name)> _byKey = new(StringComparer.Ordinal);
    private readonly List<string> _keys = [];
    private int _batch, _time;

    /// <summary>Chains <paramref name="layers"/>; each layer's input size must equal the previous layer's output size.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="layers"/> is null.</exception>
    /// <exception cref="ArgumentException">No layers, a null layer, or a layer's input size does not match.</exception>
    public ReferenceModel(params ReferenceLayer<T>[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0) throw new ArgumentException("ReferenceModel: at least one layer is needed.", nameof(layers));
        Arguments.ThrowIfNullElement(layers, nameof(layers), "ReferenceModel");
        for (int i = 1; i < layers.Length; i++)
            if (layers[i].InputSize != layers[i - 1].OutputSize)
                throw new ArgumentException($"ReferenceModel: layer {i} takes {layers[i].InputSize} features but layer {i - 1} outputs {layers[i - 1].OutputSize}.", nameof(layers));
        _layers = (ReferenceLayer<T>[])layers.Clone();
        for (int i = 0; i < _layers.Length; i++)
            foreach (var name in _layers[i].Parameters.Names)
            {
                string key = $"layers.{i}.{name}";
                _keys.Add(key);
                _byKey.Add(key, (_layers[i].Parameters, name));
            }
    }

    /// <summary>The layers, first to last.</summary>
    public IReadOnlyList<ReferenceLayer<T>> Layers => _layers;

    /// <summary>F of the first layer.</summary>
    public int InputSize => _layers[0].InputSize;

    /// <summary>O of the last layer.</summary>
    public int OutputSize => _layers[^1].OutputSize;

    /// <summary>Every state-dict key, <c>layers.{i}.{name}</c>, in layer then api.md order.</summary>
    public IReadOnlyList<string> Keys => _keys;

    /// <summary>The live value array of the parameter <paramref name="key"/> (<c>layers.{i}.{name}</c>).</summary>
    /// <exception cref="KeyNotFoundException">No such key.</exception>
    public T[] Value(string key) { var (p, n) = Resolve(key); return p.Value(n); }

    /// <summary>The live gradient accumulator of <paramref name="key"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such key.</exception>
    public T[] Grad(string key) { var (p, n) = Resolve(key); return p.Grad(n); }

    /// <summary>The <c>[rows, cols]</c> shape of <paramref name="key"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such key.</exception>
    public int[] Shape(string key) { var (p, n) = Resolve(key); return p.Shape(n); }

    /// <summary>Copies <paramref name="values"/> into the parameter <paramref name="key"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such key.</exception>
    /// <exception cref="ArgumentException">The length does not match the parameter's shape.</exception>
    public void SetValue(string key, ReadOnlySpan<T> values) { var (p, n) = Resolve(key); p.SetValue(n, values); }

    /// <summary>Zeroes every gradient accumulator.</summary>
    public void ZeroGrad()
    {
        foreach (var l in _layers) l.Parameters.ZeroGrad();
    }

    /// <summary>Zeroes every layer's carried state.</summary>
    public void ResetState()
    {
        foreach (var l in _layers) l.ResetState();
    }

    /// <summary>Runs the layers in order.</summary>
    /// <param name="input">(B, T, F) row-major.</param>
    /// <param name="batch">B.</param>
    /// <param name="time">T.</param>
    /// <param name="lengths">Per-sequence lengths in 1..T, or null for all T (see <see cref="ReferenceLayer{T}"/>).</param>
    /// <returns>(B, T, O) of the last layer.</returns>
    /// <exception cref="ArgumentException">The input's length is not B·T·F, or a bad length.</exception>
    public T[] Forward(ReadOnlySpan<T> input, int batch, int time, int[]? lengths = null)
    {
        var x = _layers[0].Forward(input, batch, time, lengths);
        for (int i = 1; i < _layers.Length; i++) x = _layers[i].Forward(x, batch, time, lengths);
        _batch = batch;
        _time = time;
        return x;
    }

    /// <summary>Back-propagates through the last forward pass, adding into every parameter gradient.</summary>
    /// <param name="dOutput">(B, T, O) gradient of the output.</param>
    /// <returns>The gradient of the input, (B, T, F).</returns>
    /// <exception cref="InvalidOperationException">Forward has not run.</exception>
    /// <exception cref="ArgumentException">The gradient's length does not match the last output.</exception>
    public T[] Backward(ReadOnlySpan<T> dOutput)
    {
        var d = _layers[^1].Backward(dOutput);
        for (int i = _layers.Length - 2; i >= 0; i--) d = _layers[i].Backward(d);
        return d;
    }

    /// <summary><see cref="Forward(ReadOnlySpan{T}, int, int, int[])"/> on a (B, T, F) tensor, used only as a container.</summary>
    /// <param name="input">(batch, time, F); no graph is recorded.</param>
    /// <param name="lengths">One length per sequence, each in 1..time; null for full length.</param>
    /// <returns>(batch, time, O).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentException">The tensor is not (B, T, F), or a bad length.</exception>
    public Tensor<T> Forward(Tensor<T> input, int[]? lengths = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank != 3 || input.Shape[2] != InputSize)
            throw new ArgumentException($"ReferenceModel.Forward: input must be (batch, time, {InputSize}) but has shape ({string.Join(", ", input.Shape.ToArray())}).", nameof(input));
        return Tensor.FromArray(Forward(input.AsSpan(), input.Shape[0], input.Shape[1], lengths), input.Shape[0], input.Shape[1], OutputSize);
    }

    /// <summary><see cref="Backward(ReadOnlySpan{T})"/> on a (B, T, O) tensor, used only as a container.</summary>
    /// <param name="dOutput">The loss gradient with respect to the last forward's output, (batch, time, O).</param>
    /// <returns>The gradient with respect to the input, (batch, time, F); parameter gradients accumulate in the parameters.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="dOutput"/> is null.</exception>
    /// <exception cref="InvalidOperationException">Forward has not run.</exception>
    /// <exception cref="ArgumentException">The tensor is not the last output's shape.</exception>
    public Tensor<T> Backward(Tensor<T> dOutput)
    {
        ArgumentNullException.ThrowIfNull(dOutput);
        if (_batch == 0)
            throw new InvalidOperationException("ReferenceModel.Backward: Forward has not run.");
        if (dOutput.Rank != 3 || dOutput.Shape[0] != _batch || dOutput.Shape[1] != _time || dOutput.Shape[2] != OutputSize)
            throw new ArgumentException($"ReferenceModel.Backward: dOutput must be ({_batch}, {_time}, {OutputSize}) but has shape ({string.Join(", ", dOutput.Shape.ToArray())}).", nameof(dOutput));
        return Tensor.FromArray(Backward(dOutput.AsSpan()), _batch, _time, InputSize);
    }

    /// <summary>A copy of every parameter as a tensor, keyed <c>layers.{i}.{name}</c>.</summary>
    public Dictionary<string, Tensor<T>> StateDict() => Collect(static (p, n) => p.Value(n));

    /// <summary>A copy of every gradient accumulator as a tensor, keyed like <see cref="StateDict"/>.</summary>
    public Dictionary<string, Tensor<T>> GradDict() => Collect(static (p, n) => p.Grad(n));

    /// <summary>Copies every entry of <paramref name="state"/> into the parameter of the same key.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="state"/> is null.</exception>
    /// <exception cref="ArgumentException">A key is missing or extra, or an entry is not exactly (rows, cols).</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor<T>> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var key in state.Keys)
            if (!_byKey.ContainsKey(key))
                throw new ArgumentException($"ReferenceModel.LoadStateDict: unexpected key '{key}'.", nameof(state));
        foreach (var key in _keys)
        {
            if (!state.TryGetValue(key, out var t))
                throw new ArgumentException($"ReferenceModel.LoadStateDict: missing key '{key}'.", nameof(state));
            var shape = Shape(key);
            if (t.Rank != 2 || t.Shape[0] != shape[0] || t.Shape[1] != shape[1])
                throw new ArgumentException($"ReferenceModel.LoadStateDict: '{key}' must be ({shape[0]}, {shape[1]}) but has shape ({string.Join(", ", t.Shape.ToArray())}).", nameof(state));
            SetValue(key, t.AsSpan());
        }
    }

    private Dictionary<string, Tensor<T>> Collect(Func<ReferenceParameters<T>, string, T[]> pick)
    {
        var d = new Dictionary<string, Tensor<T>>(StringComparer.Ordinal);
        foreach (var key in _keys)
        {
            var (p, name) = _byKey[key];
            var s = p.Shape(name);
            d.Add(key, Tensor.FromArray(pick(p, name), s[0], s[1]));
        }
        return d;
    }

    private (ReferenceParameters<T> Parameters, string Name) Resolve(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!_byKey.TryGetValue(key, out var e))
            throw new KeyNotFoundException($"ReferenceModel: no parameter '{key}' (keys are layers.{{i}}.{{name}}, e.g. {_keys[0]}).");
        return e;
    }
}
