using Autograd.Nn;

namespace Autograd.CharLm;

/// <summary>
/// The shape of a character-level language model: a stack of <see cref="Layers"/> recurrent
/// layers of <see cref="HiddenSize"/> units. Layer 0 reads one-hot symbols (vocabulary size
/// features); each layer's output projection feeds the next; the last projects to vocabulary
/// size logits.
/// </summary>
/// <param name="Cell">The recurrent cell.</param>
/// <param name="HiddenSize">Hidden units per layer (also the size of intermediate outputs).</param>
/// <param name="Layers">Number of stacked recurrent layers.</param>
/// <param name="Dropout">Dropout between layers while training (0 = none).</param>
public sealed record CharModelConfig(CellKind Cell = CellKind.Lstm, int HiddenSize = 256, int Layers = 1, double Dropout = 0)
{
    /// <summary>The largest hidden size accepted (bounds memory before anything is allocated).</summary>
    public const int MaxHiddenSize = 8192;

    /// <summary>The most layers accepted.</summary>
    public const int MaxLayers = 64;

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive or too large, or dropout is not in [0, 1).</exception>
    public void Validate()
    {
        if (HiddenSize <= 0 || HiddenSize > MaxHiddenSize)
            throw new ArgumentOutOfRangeException(nameof(HiddenSize), HiddenSize, $"CharModelConfig: hidden size must be in [1, {MaxHiddenSize}].");
        if (Layers <= 0 || Layers > MaxLayers)
            throw new ArgumentOutOfRangeException(nameof(Layers), Layers, $"CharModelConfig: layers must be in [1, {MaxLayers}].");
        if (!(Dropout >= 0 && Dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "CharModelConfig: dropout must be in [0, 1).");
        if (!RecurrentCell.All.Any(c => c.Kind == Cell))
            throw new ArgumentOutOfRangeException(nameof(Cell), Cell, $"CharModelConfig: unknown cell kind {(int)Cell} (known: {string.Join(", ", RecurrentCell.All.Select(c => c.Name))}).");
    }

    /// <summary>
    /// The number of parameters the model has for <paramref name="vocabularySize"/> symbols,
    /// computed from the shapes of api.md without allocating anything.
    /// </summary>
    /// <param name="vocabularySize">Input features of layer 0 and outputs of the last layer.</param>
    /// <exception cref="ArgumentOutOfRangeException">The cell kind is unknown or a size is not positive.</exception>
    public long ParameterCount(int vocabularySize)
    {
        long total = 0;
        for (int i = 0; i < Layers; i++)
        {
            int f = i == 0 ? vocabularySize : HiddenSize;
            int o = i == Layers - 1 ? vocabularySize : HiddenSize;
            foreach (var (_, shape) in RecurrentLayer<float>.Layout(Cell, f, HiddenSize, o)) total += (long)shape[0] * shape[1];
        }
        return total;
    }

    /// <summary>Builds the network with its parameters created (so they can be loaded or trained at once).</summary>
    /// <param name="vocabularySize">Input features of layer 0 and outputs of the last layer.</param>
    /// <param name="seed">Seeds the weight initialization (layer <c>i</c> uses <c>seed + i</c>) and dropout.</param>
    /// <param name="carry">How layers carry state between forward calls.</param>
    /// <exception cref="ArgumentOutOfRangeException">The configuration or the vocabulary size is invalid.</exception>
    public RnnModel<float> Build(int vocabularySize, int seed, CarryMode carry = CarryMode.PerSequence)
    {
        Validate();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabularySize);
        var cell = RecurrentCell.Get(Cell);
        var layers = new List<RecurrentLayer<float>>(Layers);
        for (int i = 0; i < Layers; i++)
        {
            int output = i == Layers - 1 ? vocabularySize : HiddenSize;
            // Orthogonal recurrent weights and a forget-gate bias of 1 train much faster than the
            // seed's N(0, 0.01) draw; they only change the starting point, not the model.
            var options = new RecurrentOptions
            {
                Carry = carry,
                Init = InitScheme.XavierOrthogonal,
                Seed = unchecked(seed + i),
                ForgetGateBias = 1.0, // read by cells with a forget gate (LSTM) only
            };
            var layer = cell.CreateLayer<float>(HiddenSize, output, options);
            layer.Build(i == 0 ? vocabularySize : HiddenSize);
            if (i == 0) ScaleOneHotInputRows(layer, vocabularySize);
            layers.Add(layer);
        }
        return new RnnModel<float>(layers, Dropout, seed);
    }

    /// <summary>
    /// Xavier scaling assumes all F inputs are active; a one-hot input activates one, so each input
    /// row of layer 0 is a lookup (an embedding) and would give the gates only 1/√F of the intended
    /// signal. Multiplying those rows by √F restores unit-scale gate inputs; without it Adam needs
    /// hundreds of steps just to grow them, and loss sits on the unigram plateau meanwhile.
    /// </summary>
    private static void ScaleOneHotInputRows(RecurrentLayer<float> layer, int vocabularySize)
    {
        float scale = MathF.Sqrt(vocabularySize);
        // Each gate's rows that multiply x; biases, recurrent rows and the projection (W_v) stay.
        foreach (var gate in layer.Gates())
        {
            var values = gate.Input.ToArray();
            for (int k = 0; k < values.Length; k++) values[k] *= scale;
            gate.Input.CopyFrom(values);
        }
    }

    /// <summary>The command-line spelling of a cell: <c>rnn</c>, <c>gru</c> or <c>lstm</c> (<see cref="RecurrentCell.Name"/>).</summary>
    /// <param name="cell">The cell.</param>
    /// <exception cref="ArgumentOutOfRangeException">The cell kind is unknown.</exception>
    public static string Name(CellKind cell) => RecurrentCell.Get(cell).Name;

    /// <summary>Parses a registered cell's name (<c>rnn</c>, <c>gru</c>, <c>lstm</c>; any case).</summary>
    /// <param name="text">The spelling; null gives false.</param>
    /// <param name="cell">The cell, when the result is true.</param>
    /// <returns>Whether <paramref name="text"/> names a cell.</returns>
    public static bool TryParseCell(string? text, out CellKind cell)
    {
        bool found = RecurrentCell.TryParse(text, out var c);
        cell = found ? c.Kind : default;
        return found;
    }
}
