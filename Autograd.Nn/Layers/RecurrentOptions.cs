namespace Autograd.Nn;

/// <summary>How a recurrent layer carries its hidden (and cell) state from one forward pass to the next.</summary>
public enum CarryMode
{
    /// <summary>
    /// The seed's: each pass starts from <c>start_H</c> (1, H) repeated over the batch; afterwards
    /// <c>start_H</c> becomes the batch mean of the final state, detached. The default.
    /// </summary>
    BatchMean,

    /// <summary>
    /// Truncated BPTT over contiguous batches: row b of the next batch continues from row b's
    /// final state, detached. Resets to zeros when the batch size changes (a (1, H) state set
    /// with SetState broadcasts over any batch).
    /// </summary>
    PerSequence,

    /// <summary>Every pass starts from zeros (or from the initial state passed to <c>Forward</c>), as in PyTorch.</summary>
    None,
}

/// <summary>Construction options shared by <see cref="RnnLayer{T}"/>, <see cref="GruLayer{T}"/> and <see cref="LstmLayer{T}"/>.</summary>
public sealed record RecurrentOptions
{
    /// <summary>State carried across forward passes (default: the seed's batch mean).</summary>
    public CarryMode Carry { get; init; } = CarryMode.BatchMean;

    /// <summary>Initial parameter distribution (default: the seed's).</summary>
    public InitScheme Init { get; init; } = InitScheme.Seed;

    /// <summary>Seed for parameter initialisation; the same seed gives the same parameters.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// GRU only: apply the reset gate after the hidden matmul, h̄ = tanh(x·W_xh + B_h + r ⊙ (H·W_hh))
    /// (PyTorch/cuDNN; ONNX <c>linear_before_reset=1</c>). Default false: the seed's (Cho 2014)
    /// h̄ = tanh(x·W_xh + (r ⊙ H)·W_hh + B_h).
    /// </summary>
    public bool GruResetAfter { get; init; }

    /// <summary>
    /// A second, hidden-side bias per gate, <c>B_h{gate}</c> (1, H) after the cell's other parameters:
    /// PyTorch's <c>bias_hh</c>, so PyTorch weights load exactly. It adds to the gate's pre-activation
    /// like the input bias, except the GRU candidate's in the reset-after form, where it sits inside
    /// the reset product: h̄ = tanh(x·W_xh + B_h + r ⊙ (H·W_hh + B_hh)) (PyTorch's <c>b_hn</c>).
    /// Default false: the seed's single bias per gate.
    /// </summary>
    public bool RecurrentBias { get; init; }

    /// <summary>LSTM only: if set, the forget-gate bias <c>B_f</c> starts at this value (1 is common).</summary>
    public double? ForgetGateBias { get; init; }

    /// <summary>The defaults: the seed's behaviour.</summary>
    public static RecurrentOptions Default { get; } = new();

    /// <summary>
    /// PyTorch's <c>nn.RNN</c>/<c>nn.GRU</c>/<c>nn.LSTM</c> semantics: every forward pass starts from zeros
    /// (or the state passed in), the GRU applies its reset gate after the hidden matmul with
    /// <c>b_hn</c> inside, every gate has both biases, and weights start as PyTorch's
    /// U(−1/√H, 1/√H). Use with the constructors without an output size (no <c>W_v</c>, <c>B_v</c>).
    /// </summary>
    public static RecurrentOptions PyTorch { get; } = new()
    {
        Carry = CarryMode.None,
        Init = InitScheme.PyTorch,
        GruResetAfter = true,
        RecurrentBias = true,
    };
}
