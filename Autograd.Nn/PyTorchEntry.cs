using System.Numerics;

namespace Autograd.Nn;

/// <summary>Writes values given in PyTorch's layout into a module's parameters.</summary>
internal delegate void PyTorchWriter<T>(ReadOnlySpan<T> values);

/// <summary>Says why values cannot be loaded exactly (null when they can).</summary>
internal delegate string? PyTorchCheck<T>(ReadOnlySpan<T> values);

/// <summary>One tensor of a PyTorch <c>state_dict</c> and how it maps onto our parameters.</summary>
/// <param name="Name">PyTorch's name, e.g. <c>lstm.weight_ih_l0_reverse</c>.</param>
/// <param name="Shape">PyTorch's shape.</param>
/// <param name="Read">Our values in PyTorch's layout.</param>
/// <param name="Write">Stores values given in PyTorch's layout.</param>
/// <param name="Check">Refuses values the module cannot hold exactly, before anything is written.</param>
internal sealed record PyTorchEntry<T>(string Name, int[] Shape, Func<T[]> Read, PyTorchWriter<T> Write, PyTorchCheck<T>? Check = null)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A parameter stored the same way in both (same name suffix, same shape).</summary>
    public static PyTorchEntry<T> Same(string name, Tensor<T> parameter) => new(name, parameter.Shape.ToArray(), parameter.ToArray, parameter.CopyFrom);

    /// <summary>A (rows, cols) parameter that PyTorch stores transposed (e.g. nn.Linear's weight).</summary>
    public static PyTorchEntry<T> Transposed(string name, Tensor<T> parameter)
    {
        int rows = parameter.Size(0), cols = parameter.Size(1);
        return new(name, [cols, rows],
            () => Transpose(parameter.AsSpan(), rows, cols),
            values => parameter.CopyFrom(Transpose(values, cols, rows)));
    }

    /// <summary>A (1, n) parameter that PyTorch stores as a vector (n).</summary>
    public static PyTorchEntry<T> Vector(string name, Tensor<T> parameter)
        => new(name, [parameter.Length], parameter.ToArray, parameter.CopyFrom);

    /// <summary>A (rows, cols) row-major matrix transposed to (cols, rows).</summary>
    public static T[] Transpose(ReadOnlySpan<T> m, int rows, int cols)
    {
        var t = new T[m.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[j * rows + i] = m[i * cols + j];
        return t;
    }
}

/// <summary>Reading a PyTorch state dict's shapes.</summary>
internal static class PyTorchShapes
{
    /// <summary>
    /// The input size a PyTorch weight <paramref name="name"/> of shape (out, in) implies (its columns), or null
    /// when the dict has no such 2-D entry with a positive input size.
    /// </summary>
    public static int? InputSize(IReadOnlyDictionary<string, int[]> shapes, string name)
        => shapes.TryGetValue(name, out var s) && s.Length == 2 && s[1] > 0 ? s[1] : null;
}

/// <summary>
/// What a PyTorch entry will be once its layer is built, known without building it: the load checks a dict
/// against these before anything is built or written.
/// </summary>
/// <param name="Name">PyTorch's name.</param>
/// <param name="Shape">PyTorch's shape; -1 marks an input size that neither the module nor the dict gives.</param>
/// <param name="Check">Refuses values the module cannot hold exactly.</param>
internal sealed record PyTorchSlot<T>(string Name, int[] Shape, PyTorchCheck<T>? Check = null)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Whether a tensor of <paramref name="shape"/> fits (-1 takes any positive size).</summary>
    public bool Fits(ReadOnlySpan<int> shape)
    {
        if (shape.Length != Shape.Length) return false;
        for (int i = 0; i < shape.Length; i++)
            if (Shape[i] < 0 ? shape[i] <= 0 : shape[i] != Shape[i]) return false;
        return true;
    }

    /// <summary>The shape for messages, an unknown input size shown as F.</summary>
    public string ShapeText => Shape.All(d => d >= 0) ? Tensor.FormatShape(Shape) : $"({string.Join(", ", Shape.Select(d => d < 0 ? "F" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))})";
}

/// <summary>
/// PyTorch's recurrent layout for one direction of one layer: <c>weight_ih</c> (G·H, F), <c>weight_hh</c>
/// (G·H, H), <c>bias_ih</c> and <c>bias_hh</c> (G·H), gates stacked in the cell's
/// <see cref="RecurrentCell.PyTorchGateOrder"/>, each block the transpose of our x·W block.
/// </summary>
internal static class PyTorchRecurrent
{
    /// <summary>The four entries of <paramref name="layer"/> named <c>{prefix}weight_ih{suffix}</c> etc.</summary>
    /// <exception cref="InvalidOperationException">The layer is not built, has an output projection, or its cell form has no PyTorch equivalent.</exception>
    public static void Collect<T>(RecurrentLayer<T> layer, string prefix, string suffix, List<PyTorchEntry<T>> entries) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (layer.InputSize is not int f)
            throw new InvalidOperationException($"PyTorchStateDict: the {layer.Cell.Name} layer for '{prefix}weight_ih{suffix}' is not built; run a forward pass or call Build(inputSize) first.");
        CheckEquivalent(layer, prefix, suffix);
        var byName = layer.Gates().ToDictionary(g => g.Name);
        var gates = layer.Cell.PyTorchGateOrder.Select(n => byName[n]).ToArray();
        int h = layer.HiddenSize, gh = gates.Length * h;

        entries.Add(Weight(prefix + "weight_ih" + suffix, gates, g => g.Input, f, h));
        entries.Add(Weight(prefix + "weight_hh" + suffix, gates, g => g.Recurrent, h, h));
        entries.Add(new(prefix + "bias_ih" + suffix, [gh],
            () => [.. gates.SelectMany(g => g.Bias.ToArray())],
            values => { for (int k = 0; k < gates.Length; k++) gates[k].Bias.CopyFrom(values.Slice(k * h, h)); }));
        bool hasRecurrentBias = gates[0].RecurrentBias is not null;
        entries.Add(new(prefix + "bias_hh" + suffix, [gh],
            () => hasRecurrentBias ? [.. gates.SelectMany(g => g.RecurrentBias!.ToArray())] : new T[gh],
            values =>
            {
                if (!hasRecurrentBias) return; // checked to be zero
                for (int k = 0; k < gates.Length; k++) gates[k].RecurrentBias!.CopyFrom(values.Slice(k * h, h));
            },
            hasRecurrentBias ? null : ZeroBiasHh));
    }

    /// <summary>
    /// The four slots <see cref="Collect"/> will give for <paramref name="layer"/> once built for
    /// <paramref name="inputSize"/> features (null: unknown), without building it.
    /// </summary>
    /// <exception cref="InvalidOperationException">The layer has an output projection, or its cell form has no PyTorch equivalent.</exception>
    public static void Layout<T>(RecurrentLayer<T> layer, string prefix, string suffix, int? inputSize, List<PyTorchSlot<T>> slots) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckEquivalent(layer, prefix, suffix);
        int h = layer.HiddenSize, gh = layer.Cell.PyTorchGateOrder.Count * h;
        slots.Add(new(prefix + "weight_ih" + suffix, [gh, inputSize ?? -1]));
        slots.Add(new(prefix + "weight_hh" + suffix, [gh, h]));
        slots.Add(new(prefix + "bias_ih" + suffix, [gh]));
        slots.Add(new(prefix + "bias_hh" + suffix, [gh], layer.Options.RecurrentBias ? null : ZeroBiasHh));
    }

    /// <exception cref="InvalidOperationException">The layer has an output projection, or its cell form has no PyTorch equivalent.</exception>
    private static void CheckEquivalent<T>(RecurrentLayer<T> layer, string prefix, string suffix) where T : unmanaged, IFloatingPointIeee754<T>
    {
        string what = $"the {layer.Cell.Name} layer for '{prefix}weight_ih{suffix}'";
        if (layer.HasOutputProjection)
            throw new InvalidOperationException($"PyTorchStateDict: {what} has the seed's output projection W_v, B_v, which torch.nn.{layer.Cell.PyTorchModule} has no place for; build it without an output size.");
        if (layer.Cell.PyTorchIncompatibility(layer.Options) is { } why)
            throw new InvalidOperationException($"PyTorchStateDict: {what} has no torch.nn.{layer.Cell.PyTorchModule} equivalent: {why}.");
    }

    /// <summary>A layer without a recurrent bias holds only a zero <c>bias_hh</c>.</summary>
    private static string? ZeroBiasHh<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
        => !values.ContainsAnyExcept(T.Zero)
            ? null
            : "is not zero but the layer has no recurrent bias (build it with RecurrentOptions.RecurrentBias, or RecurrentOptions.PyTorch)";

    /// <summary>Which layer input size a PyTorch state dict implies for <c>{prefix}weight_ih{suffix}</c>, if present.</summary>
    public static int? InputSize(IReadOnlyDictionary<string, int[]> shapes, string prefix, string suffix)
        => PyTorchShapes.InputSize(shapes, prefix + "weight_ih" + suffix);

    private static PyTorchEntry<T> Weight<T>(string name, CellGate<T>[] gates, Func<CellGate<T>, ParameterRows<T>> rows, int r, int h) where T : unmanaged, IFloatingPointIeee754<T>
        => new(name, [gates.Length * h, r],
            () => [.. gates.SelectMany(g => PyTorchEntry<T>.Transpose(rows(g).ToArray(), r, h))],
            values =>
            {
                for (int k = 0; k < gates.Length; k++) rows(gates[k]).CopyFrom(PyTorchEntry<T>.Transpose(values.Slice(k * h * r, h * r), h, r));
            });
}
