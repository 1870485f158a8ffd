using System.Numerics;
using static Autograd.Nn.Reference.ReferenceMath;

namespace Autograd.Nn.Reference;

/// <summary>
/// Hand-derived reference for one vanilla-RNN time step (seed.md section 4), on plain arrays, no autodiff:
/// <c>H_out = tanh(concat(x, H_in) @ W_f + B_f)</c>, <c>X_out = H_out @ W_v + B_v</c>.
/// </summary>
/// <remarks>
/// Backward, with <c>dH = dX_out @ W_vᵀ + dH_out</c> and <c>dA = dH * (1 - H_out²)</c>:
/// <c>dW_v += H_outᵀ dX_out</c>, <c>dB_v += Σ_b dX_out</c>, <c>dW_f += concat(x, H_in)ᵀ dA</c>,
/// <c>dB_f += Σ_b dA</c>, <c>concat(dx, dH_in) = dA @ W_fᵀ</c>.
/// </remarks>
public sealed class RnnNode<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ReferenceParameters<T> _p;
    private T[]? _x, _hIn, _hOut;
    private int _batch;

    /// <summary>A step that reads weights from and adds gradients into <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentException">The parameters are not an RNN layer's.</exception>
    public RnnNode(ReferenceParameters<T> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Kind != ReferenceCellKind.Rnn)
            throw new ArgumentException($"RnnNode: parameters are for a {parameters.Kind} layer.", nameof(parameters));
        _p = parameters;
    }

    /// <summary>Runs the step and keeps what backward needs.</summary>
    /// <param name="x">(B, F) input at this step.</param>
    /// <param name="hIn">(B, H) incoming hidden state.</param>
    /// <returns><c>XOut</c> (B, O) and <c>HOut</c> (B, H).</returns>
    /// <exception cref="ArgumentException">The lengths do not fit (B, F) and (B, H).</exception>
    public (T[] XOut, T[] HOut) Forward(ReadOnlySpan<T> x, ReadOnlySpan<T> hIn)
    {
        int f = _p.InputSize, h = _p.HiddenSize, o = _p.OutputSize;
        int b = BatchOf(x.Length, f, hIn.Length, h, "RnnNode.Forward");
        var wf = _p.Value("W_f");

        var hOut = new T[b * h];
        AddRowToEach<T>(hOut, _p.Value("B_f"), b, h);
        MatMulAdd(x, wf.AsSpan(0, f * h), hOut, b, f, h);      // rows 0..F-1 of W_f multiply x
        MatMulAdd(hIn, wf.AsSpan(f * h), hOut, b, h, h);       // rows F.. multiply H_in
        for (int i = 0; i < hOut.Length; i++) hOut[i] = T.Tanh(hOut[i]);

        var xOut = new T[b * o];
        AddRowToEach<T>(xOut, _p.Value("B_v"), b, o);
        MatMulAdd<T>(hOut, _p.Value("W_v"), xOut, b, h, o);

        _x = x.ToArray(); _hIn = hIn.ToArray(); _hOut = hOut; _batch = b;
        return (xOut, hOut);
    }

    /// <summary>Back-propagates through the last <see cref="Forward"/>, adding into the parameter gradients.</summary>
    /// <param name="dXOut">(B, O) gradient of this step's output.</param>
    /// <param name="dHOut">(B, H) gradient reaching <c>H_out</c> from the next step (zeros at the last step).</param>
    /// <returns><c>DX</c> (B, F) and <c>DHIn</c> (B, H).</returns>
    /// <exception cref="InvalidOperationException">Forward has not run.</exception>
    /// <exception cref="ArgumentException">A gradient's length does not match its shape.</exception>
    public (T[] DX, T[] DHIn) Backward(ReadOnlySpan<T> dXOut, ReadOnlySpan<T> dHOut)
    {
        if (_hOut is null || _x is null || _hIn is null)
            throw new InvalidOperationException("RnnNode.Backward: Forward has not run.");
        int f = _p.InputSize, h = _p.HiddenSize, o = _p.OutputSize, b = _batch;
        CheckLength(dXOut.Length, b * o, "RnnNode.Backward", nameof(dXOut), $"({b}, {o})");
        CheckLength(dHOut.Length, b * h, "RnnNode.Backward", nameof(dHOut), $"({b}, {h})");

        MatMulTransAAdd<T>(_hOut, dXOut, _p.Grad("W_v"), h, b, o);
        SumRowsAdd(dXOut, _p.Grad("B_v"), b, o);

        var dA = dHOut.ToArray();
        MatMulTransBAdd(dXOut, _p.Value("W_v"), dA, b, o, h);
        for (int i = 0; i < dA.Length; i++) dA[i] *= T.One - _hOut[i] * _hOut[i];

        var wf = _p.Value("W_f");
        var gwf = _p.Grad("W_f");
        MatMulTransAAdd<T>(_x, dA, gwf.AsSpan(0, f * h), f, b, h);
        MatMulTransAAdd<T>(_hIn, dA, gwf.AsSpan(f * h), h, b, h);
        SumRowsAdd<T>(dA, _p.Grad("B_f"), b, h);

        var dx = new T[b * f];
        var dhIn = new T[b * h];
        MatMulTransBAdd<T>(dA, wf.AsSpan(0, f * h), dx, b, h, f);
        MatMulTransBAdd<T>(dA, wf.AsSpan(f * h), dhIn, b, h, h);
        return (dx, dhIn);
    }
}
