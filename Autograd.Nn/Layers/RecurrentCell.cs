using System.Numerics;

namespace Autograd.Nn;

/// <summary>The recurrent cells. Each has a <see cref="RecurrentCell"/> that describes it (<see cref="RecurrentCell.Get"/>).</summary>
public enum CellKind
{
    /// <summary>Vanilla tanh RNN.</summary>
    Rnn,
    /// <summary>Gated recurrent unit.</summary>
    Gru,
    /// <summary>Long short-term memory.</summary>
    Lstm,
}

/// <summary>
/// Everything about one kind of recurrent cell that does not depend on a layer instance: its name,
/// parameter layout, state arity and how its gates map onto ONNX's and PyTorch's recurrent operators.
/// Code outside the cell classes asks the cell instead of switching on <see cref="CellKind"/>; adding a
/// cell means its file (layer + descriptor) and one line in <see cref="All"/>.
/// </summary>
public abstract class RecurrentCell
{
    // The registration: one line per cell.
    private static readonly RecurrentCell[] Registered = [RnnCell.Instance, GruCell.Instance, LstmCell.Instance];

    private protected RecurrentCell(CellKind kind, string name, string[] gates, string[] state, (string Operator, string[] Gates) onnx, (string Module, string[] Gates) pyTorch)
    {
        Kind = kind;
        Name = name;
        GateNames = gates;
        StateNames = state;
        (OnnxOperator, OnnxGateOrder) = onnx;
        (PyTorchModule, PyTorchGateOrder) = pyTorch;
    }

    /// <summary>Every registered cell, in <see cref="CellKind"/> order.</summary>
    public static IReadOnlyList<RecurrentCell> All => Registered;

    /// <summary>The cell of <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">No cell is registered for <paramref name="kind"/>.</exception>
    public static RecurrentCell Get(CellKind kind)
    {
        foreach (var cell in Registered)
            if (cell.Kind == kind) return cell;
        throw new ArgumentOutOfRangeException(nameof(kind), kind, $"RecurrentCell: unknown cell kind {(int)kind} (known: {string.Join(", ", Registered.Select(c => c.Name))}).");
    }

    /// <summary>Finds a cell by its <see cref="Name"/> (any case).</summary>
    public static bool TryParse(string? name, out RecurrentCell cell)
    {
        foreach (var c in Registered)
        {
            if (string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                cell = c;
                return true;
            }
        }
        cell = null!;
        return false;
    }

    /// <summary>Which cell this is.</summary>
    public CellKind Kind { get; }

    /// <summary>Lower-case name for command lines and files: <c>rnn</c>, <c>gru</c>, <c>lstm</c>.</summary>
    public string Name { get; }

    /// <summary>The gates in the order of the cell's parameters, by the letter in their names (<c>f</c> of <c>W_f</c>).</summary>
    public IReadOnlyList<string> GateNames { get; }

    /// <summary>The components of the recurrent state, hidden state first (<c>h</c>; <c>h</c>, <c>c</c> for LSTM), each (batch, H).</summary>
    public IReadOnlyList<string> StateNames { get; }

    /// <summary>
    /// The cell's parameters (without the output projection <c>W_v</c>, <c>B_v</c>) by name and shape, in
    /// <see cref="Module{T}.NamedParameters"/> order, for F = <paramref name="inputSize"/> and H = <paramref name="hiddenSize"/>.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive.</exception>
    public IReadOnlyList<(string Name, int[] Shape)> Parameters(int inputSize, int hiddenSize, RecurrentOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentNullException.ThrowIfNull(options);
        return ParametersCore(inputSize, hiddenSize, options);
    }

    // The public members taking options check their arguments, then ask the cell's override (the *Core members).
    private protected abstract IReadOnlyList<(string Name, int[] Shape)> ParametersCore(int inputSize, int hiddenSize, RecurrentOptions options);

    /// <summary>A layer of this cell with the seed's output projection to <paramref name="outputSize"/>.</summary>
    public abstract RecurrentLayer<T> CreateLayer<T>(int hiddenSize, int outputSize, RecurrentOptions? options = null) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>A layer of this cell whose output is its hidden state (no <c>W_v</c>, <c>B_v</c>), as PyTorch's.</summary>
    public abstract RecurrentLayer<T> CreateLayer<T>(int hiddenSize, RecurrentOptions? options = null) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The ONNX operator (<c>RNN</c>, <c>GRU</c>, <c>LSTM</c>).</summary>
    public string OnnxOperator { get; }

    /// <summary>The gates in the order ONNX stacks them in <c>W</c>, <c>R</c> and <c>B</c>.</summary>
    public IReadOnlyList<string> OnnxGateOrder { get; }

    /// <summary>Extra integer attributes of the ONNX node for a layer with these options.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public IReadOnlyList<(string Name, long Value)> OnnxAttributes(RecurrentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return OnnxAttributesCore(options);
    }

    private protected virtual IReadOnlyList<(string Name, long Value)> OnnxAttributesCore(RecurrentOptions options) => [];

    /// <summary>PyTorch's module for this cell: <c>RNN</c>, <c>GRU</c> or <c>LSTM</c> (of <c>torch.nn</c>).</summary>
    public string PyTorchModule { get; }

    /// <summary>The gates in the order PyTorch stacks them in <c>weight_ih</c>, <c>weight_hh</c>, <c>bias_ih</c>, <c>bias_hh</c>.</summary>
    public IReadOnlyList<string> PyTorchGateOrder { get; }

    /// <summary>Why a layer with these options has no PyTorch equivalent, or null when it has one.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public string? PyTorchIncompatibility(RecurrentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return PyTorchIncompatibilityCore(options);
    }

    private protected virtual string? PyTorchIncompatibilityCore(RecurrentOptions options) => null;

    /// <summary>
    /// The seed's hand-derived reference node for a layer of this cell (forward and explicit backward on plain
    /// arrays, <see cref="Testing.SeedReferenceCell"/>), or null when the cell has none.
    /// </summary>
    /// <param name="inputSize">F.</param>
    /// <param name="hiddenSize">H.</param>
    /// <param name="outputSize">O, the size of the seed's output projection.</param>
    /// <param name="options">The layer's options (e.g. the GRU form).</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public Testing.SeedReferenceCell? SeedReference(int inputSize, int hiddenSize, int outputSize, RecurrentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return SeedReferenceCore(inputSize, hiddenSize, outputSize, options);
    }

    private protected virtual Testing.SeedReferenceCell? SeedReferenceCore(int inputSize, int hiddenSize, int outputSize, RecurrentOptions options) => null;

    /// <summary>The cell-specific options of a layer as <c>key=value</c> text for descriptions (e.g. <c>reset_after=true</c>), or empty.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public string DescribeOptions(RecurrentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return DescribeOptionsCore(options);
    }

    private protected virtual string DescribeOptionsCore(RecurrentOptions options) => "";

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>RNN/LSTM layout: per gate W_g (F+H, H) with x rows on top, then B_g, then the recurrent biases.</summary>
    private protected static IReadOnlyList<(string, int[])> StackedLayout(IReadOnlyList<string> gates, int f, int h, bool recurrentBias)
    {
        var list = new List<(string, int[])>();
        foreach (var g in gates) list.Add(("W_" + g, [f + h, h]));
        foreach (var g in gates) list.Add(("B_" + g, [1, h]));
        if (recurrentBias) foreach (var g in gates) list.Add(("B_h" + g, [1, h]));
        return list;
    }

    /// <summary>GRU layout: W_xg (F, H) per gate, W_hg (H, H) per gate, B_g, then the recurrent biases.</summary>
    private protected static IReadOnlyList<(string, int[])> SplitLayout(IReadOnlyList<string> gates, int f, int h, bool recurrentBias)
    {
        var list = new List<(string, int[])>();
        foreach (var g in gates) list.Add(("W_x" + g, [f, h]));
        foreach (var g in gates) list.Add(("W_h" + g, [h, h]));
        foreach (var g in gates) list.Add(("B_" + g, [1, h]));
        if (recurrentBias) foreach (var g in gates) list.Add(("B_h" + g, [1, h]));
        return list;
    }
}

/// <summary>A block of consecutive rows of a 2-D parameter, e.g. the x rows of a stacked (F+H, H) weight.</summary>
/// <param name="Parameter">The parameter (rows, columns).</param>
/// <param name="Start">First row.</param>
/// <param name="Count">Number of rows.</param>
public readonly record struct ParameterRows<T>(Tensor<T> Parameter, int Start, int Count) where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The parameter's column count.</summary>
    public int Columns => Parameter.Size(1);

    /// <summary>A copy of the rows, (Count, Columns) row-major.</summary>
    public T[] ToArray() => Parameter.AsSpan().Slice(Start * Columns, Count * Columns).ToArray();

    /// <summary>Overwrites the rows with <paramref name="values"/>, (Count, Columns) row-major.</summary>
    /// <exception cref="ArgumentException">The length is not Count × Columns.</exception>
    public void CopyFrom(ReadOnlySpan<T> values)
    {
        if (values.Length != Count * Columns)
            throw new ArgumentException($"ParameterRows.CopyFrom: {values.Length} values for {Count} rows of {Columns}.", nameof(values));
        var all = Parameter.ToArray();
        values.CopyTo(all.AsSpan(Start * Columns));
        Parameter.CopyFrom(all);
    }
}

/// <summary>
/// One gate of a built layer in the row-vector convention: its pre-activation reads x·<see cref="Input"/>
/// (F, H) + h·<see cref="Recurrent"/> (H, H) + <see cref="Bias"/> (1, H) + <see cref="RecurrentBias"/> (1, H),
/// where the cell decides how the terms combine (e.g. the GRU candidate's reset gate). This is what the
/// ONNX and PyTorch mappings transpose and stack in the order the cell names.
/// </summary>
/// <param name="Name">The gate's letter (<see cref="RecurrentCell.GateNames"/>).</param>
/// <param name="Input">Rows multiplying x.</param>
/// <param name="Recurrent">Rows multiplying the hidden state.</param>
/// <param name="Bias">The gate's bias.</param>
/// <param name="RecurrentBias">The hidden-side bias (PyTorch's <c>bias_hh</c>), or null when the layer has none.</param>
public sealed record CellGate<T>(string Name, ParameterRows<T> Input, ParameterRows<T> Recurrent, Tensor<T> Bias, Tensor<T>? RecurrentBias)
    where T : unmanaged, IFloatingPointIeee754<T>;
