using System.Numerics;

namespace Autograd.Nn.Reference;

/// <summary>
/// One recurrent layer's parameters and gradient accumulators as plain row-major arrays, keyed by
/// the api.md names (<c>W_f</c>, <c>B_f</c>, <c>W_xr</c>, ..., <c>W_v</c>, <c>B_v</c>) with the api.md shapes.
/// </summary>
/// <remarks>
/// Shapes (F = input size, H = hidden size, O = output size):
/// RNN <c>W_f</c> (F+H, H), <c>B_f</c> (1, H);
/// GRU <c>W_xr W_xu W_xh</c> (F, H), <c>W_hr W_hu W_hh</c> (H, H), <c>B_r B_u B_h</c> (1, H);
/// LSTM <c>W_f W_i W_c W_o</c> (F+H, H) with rows 0..F-1 multiplying x, <c>B_f B_i B_c B_o</c> (1, H);
/// all: <c>W_v</c> (H, O), <c>B_v</c> (1, O). <see cref="Names"/> lists them in state-dict order.
/// </remarks>
public sealed class ReferenceParameters<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Dictionary<string, (int Rows, int Cols, T[] Value, T[] Grad)> _entries = new(StringComparer.Ordinal);
    private readonly string[] _names;

    /// <summary>Zero-filled parameters and gradients for one layer.</summary>
    /// <param name="kind">The cell, which fixes the parameter names (api.md's table).</param>
    /// <param name="inputSize">F.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="outputSize">O.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or the kind is unknown.</exception>
    public ReferenceParameters(ReferenceCellKind kind, int inputSize, int hiddenSize, int outputSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        Kind = kind;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        OutputSize = outputSize;
        var layout = Layout(kind, inputSize, hiddenSize, outputSize);
        _names = new string[layout.Count];
        for (int i = 0; i < layout.Count; i++)
        {
            var (name, rows, cols) = layout[i];
            _names[i] = name;
            _entries.Add(name, (rows, cols, new T[rows * cols], new T[rows * cols]));
        }
    }

    /// <summary>The cell these parameters belong to.</summary>
    public ReferenceCellKind Kind { get; }

    /// <summary>F: the feature size of the layer's input.</summary>
    public int InputSize { get; }

    /// <summary>H: the hidden (and cell) state size.</summary>
    public int HiddenSize { get; }

    /// <summary>O: the size of each step's output <c>X_out</c>.</summary>
    public int OutputSize { get; }

    /// <summary>The parameter names in state-dict order (the order of the golden files).</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>The names and (rows, cols) shapes of a layer of <paramref name="kind"/>, in state-dict order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The kind is unknown.</exception>
    public static IReadOnlyList<(string Name, int Rows, int Cols)> Layout(ReferenceCellKind kind, int inputSize, int hiddenSize, int outputSize)
    {
        int f = inputSize, h = hiddenSize, o = outputSize;
        var list = new List<(string, int, int)>();
        switch (kind)
        {
            case ReferenceCellKind.Rnn:
                list.Add(("W_f", f + h, h)); list.Add(("B_f", 1, h));
                break;
            case ReferenceCellKind.Gru:
                foreach (var g in new[] { "r", "u", "h" })
                {
                    list.Add(("W_x" + g, f, h)); list.Add(("W_h" + g, h, h)); list.Add(("B_" + g, 1, h));
                }
                break;
            case ReferenceCellKind.Lstm:
                foreach (var g in new[] { "f", "i", "c", "o" })
                {
                    list.Add(("W_" + g, f + h, h)); list.Add(("B_" + g, 1, h));
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "ReferenceParameters.Layout: unknown cell kind.");
        }
        list.Add(("W_v", h, o)); list.Add(("B_v", 1, o));
        return list;
    }

    /// <summary>The live (rows, cols) value array of <paramref name="name"/>; writes change the parameter.</summary>
    /// <exception cref="KeyNotFoundException">No parameter has that name for this kind.</exception>
    public T[] Value(string name) => Entry(name).Value;

    /// <summary>The live gradient accumulator of <paramref name="name"/>, same shape as its value; backward passes add into it.</summary>
    /// <exception cref="KeyNotFoundException">No parameter has that name for this kind.</exception>
    public T[] Grad(string name) => Entry(name).Grad;

    /// <summary>The shape of <paramref name="name"/> as <c>[rows, cols]</c>.</summary>
    /// <exception cref="KeyNotFoundException">No parameter has that name for this kind.</exception>
    public int[] Shape(string name)
    {
        var e = Entry(name);
        return [e.Rows, e.Cols];
    }

    /// <summary>Copies <paramref name="values"/> (row-major, the parameter's shape) into <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No parameter has that name.</exception>
    /// <exception cref="ArgumentException">The length does not match the parameter's shape.</exception>
    public void SetValue(string name, ReadOnlySpan<T> values)
    {
        var e = Entry(name);
        ReferenceMath.CheckLength(values.Length, e.Value.Length, "ReferenceParameters.SetValue", nameof(values), $"{name} ({e.Rows}, {e.Cols})");
        values.CopyTo(e.Value);
    }

    /// <summary>Sets every gradient accumulator to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var e in _entries.Values) Array.Clear(e.Grad);
    }

    /// <summary>Fills every parameter with normal samples of standard deviation <paramref name="scale"/> (biases too, as the seed does).</summary>
    /// <param name="random">The source of randomness (consumed).</param>
    /// <param name="scale">σ.</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    public void Randomize(Random random, double scale)
    {
        ArgumentNullException.ThrowIfNull(random);
        foreach (var name in _names)
        {
            var v = Entry(name).Value;
            for (int i = 0; i < v.Length; i++)
            {
                double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
                v[i] = T.CreateChecked(scale * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
        }
    }

    private (int Rows, int Cols, T[] Value, T[] Grad) Entry(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_entries.TryGetValue(name, out var e))
            throw new KeyNotFoundException($"ReferenceParameters: a {Kind} layer has no parameter '{name}' (it has {string.Join(", ", _names)}).");
        return e;
    }
}
