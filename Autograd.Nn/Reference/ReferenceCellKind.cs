namespace Autograd.Nn.Reference;

/// <summary>The seed's three recurrent cells (seed.md section 4).</summary>
public enum ReferenceCellKind
{
    /// <summary>Vanilla RNN: <c>H_out = tanh(concat(x, H_in) @ W_f + B_f)</c>.</summary>
    Rnn,

    /// <summary>GRU with reset gate <c>r</c> and update gate <c>u</c>.</summary>
    Gru,

    /// <summary>LSTM with forget, input, candidate and output gates and a cell state.</summary>
    Lstm,
}
