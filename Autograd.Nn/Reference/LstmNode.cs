using System.Numerics;
using static Autograd.Nn.Reference.ReferenceMath;

namespace Autograd.Nn.Reference;

/// <summary>
/// Hand-derived reference for one LSTM time step (seed.md section 4), on plain arrays, no autodiff.
/// </summary>
/// <remarks>
/// <code>
/// Z = concat(x, H_in)
/// f = σ(Z W_f + B_f);  i = σ(Z W_i + B_i);  C_bar = tanh(Z W_c + B_c);  o = σ(Z W_o + B_o)
/// C_out = f * C_in + i * C_bar;  H_out = o * tanh(C_out);  X_out = H_out W_v + B_v
/// </code>
/// Backward, with <c>dH = dX_out W_vᵀ + dH_out</c> and <c>dC = dC_out + dH o (1 - tanh²(C_out))</c>:
/// <c>dA_o = dH tanh(C_out) o (1 - o)</c>, <c>dA_f = dC C_in f (1 - f)</c>, <c>dA_i = dC C_bar i (1 - i)</c>,
/// <c>dA_c = dC i (1 - C_bar²)</c>, <c>dC_in = dC f</c>; for each gate g: <c>dW_g += Zᵀ dA_g</c>,
/// <c>dB_g += Σ_b dA_g</c>, <c>concat(dx, dH_in) += dA_g W_gᵀ</c>.
/// </remarks>
public sealed class LstmNode<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly string[] GateNames = ["f", "i", "c", "o"];
    private readonly ReferenceParameters<T> _p;
    private T[]? _x, _hIn, _cIn, _f, _i, _cBar, _o, _tanhC, _hOut;
    private int _batch;

    /// <summary>A step that reads weights from and adds gradients into <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentException">The parameters are not an LSTM layer's.</exception>
    public LstmNode(ReferenceParameters<T> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Kind != ReferenceCellKind.Lstm)
            throw new ArgumentException($"LstmNode: parameters are for a {parameters.Kind} layer.", nameof(parameters));
        _p = parameters;
    }

    /// <summary>Runs the step and keeps what backward needs.</summary>
    /// <param name="x">(B, F) input at this step.</param>
    /// <param name="hIn">(B, H) incoming hidden state.</param>
    /// <param name="cIn">(B, H) incoming cell state.</param>
    /// <returns><c>XOut</c> (B, O), <c>HOut</c> (B, H) and <c>COut</c> (B, H).</returns>
    /// <exception cref="ArgumentException">The lengths do not fit (B, F), (B, H) and (B, H).</exception>
    public (T[] XOut, T[] HOut, T[] COut) Forward(ReadOnlySpan<T> x, ReadOnlySpan<T> hIn, ReadOnlySpan<T> cIn)
    {
        int f = _p.InputSize, h = _p.HiddenSize, o = _p.OutputSize;
        int b = BatchOf(x.Length, f, hIn.Length, h, "LstmNode.Forward");
        CheckLength(cIn.Length, b * h, "LstmNode.Forward", nameof(cIn), $"({b}, {h})");
        int n = b * h;

        var gates = new T[4][];
        for (int g = 0; g < 4; g++)
        {
            var w = _p.Value("W_" + GateNames[g]);
            var a = new T[n];
            AddRowToEach<T>(a, _p.Value("B_" + GateNames[g]), b, h);
            MatMulAdd(x, w.AsSpan(0, f * h), a, b, f, h);     // rows 0..F-1 multiply x
            MatMulAdd(hIn, w.AsSpan(f * h), a, b, h, h);      // rows F.. multiply H_in
            for (int k = 0; k < n; k++) a[k] = g == 2 ? T.Tanh(a[k]) : Sigmoid(a[k]);
            gates[g] = a;
        }
        T[] fg = gates[0], ig = gates[1], cBar = gates[2], og = gates[3];

        var cOut = new T[n];
        var tanhC = new T[n];
        var hOut = new T[n];
        for (int k = 0; k < n; k++)
        {
            cOut[k] = fg[k] * cIn[k] + ig[k] * cBar[k];
            tanhC[k] = T.Tanh(cOut[k]);
            hOut[k] = og[k] * tanhC[k];
        }

        var xOut = new T[b * o];
        AddRowToEach<T>(xOut, _p.Value("B_v"), b, o);
        MatMulAdd<T>(hOut, _p.Value("W_v"), xOut, b, h, o);

        _x = x.ToArray(); _hIn = hIn.ToArray(); _cIn = cIn.ToArray();
        _f = fg; _i = ig; _cBar = cBar; _o = og; _tanhC = tanhC; _hOut = hOut; _batch = b;
        return (xOut, hOut, cOut);
    }

    /// <summary>Back-propagates through the last <see cref="Forward"/>, adding into the parameter gradients.</summary>
    /// <param name="dXOut">(B, O) gradient of this step's output.</param>
    /// <param name="dHOut">(B, H) gradient reaching <c>H_out</c> from the next step (zeros at the last step).</param>
    /// <param name="dCOut">(B, H) gradient reaching <c>C_out</c> from the next step (zeros at the last step).</param>
    /// <returns><c>DX</c> (B, F), <c>DHIn</c> (B, H) and <c>DCIn</c> (B, H).</returns>
    /// <exception cref="InvalidOperationException">Forward has not run.</exception>
    /// <exception cref="ArgumentException">A gradient's length does not match its shape.</exception>
    public (T[] DX, T[] DHIn, T[] DCIn) Backward(ReadOnlySpan<T> dXOut, ReadOnlySpan<T> dHOut, ReadOnlySpan<T> dCOut)
    {
        if (_x is null || _hIn is null || _cIn is null || _f is null || _i is null || _cBar is null || _o is null || _tanhC is null || _hOut is null)
            throw new InvalidOperationException("LstmNode.Backward: Forward has not run.");
        int f = _p.InputSize, h = _p.HiddenSize, o = _p.OutputSize, b = _batch, n = b * h;
        CheckLength(dXOut.Length, b * o, "LstmNode.Backward", nameof(dXOut), $"({b}, {o})");
        CheckLength(dHOut.Length, n, "LstmNode.Backward", nameof(dHOut), $"({b}, {h})");
        CheckLength(dCOut.Length, n, "LstmNode.Backward", nameof(dCOut), $"({b}, {h})");

        MatMulTransAAdd<T>(_hOut, dXOut, _p.Grad("W_v"), h, b, o);
        SumRowsAdd(dXOut, _p.Grad("B_v"), b, o);

        var dH = dHOut.ToArray();
        MatMulTransBAdd(dXOut, _p.Value("W_v"), dH, b, o, h);

        var dA = new T[4][];
        for (int g = 0; g < 4; g++) dA[g] = new T[n];
        var dcIn = new T[n];
        for (int k = 0; k < n; k++)
        {
            T fk = _f[k], ik = _i[k], cb = _cBar[k], ok = _o[k], tc = _tanhC[k];
            T dC = dCOut[k] + dH[k] * ok * (T.One - tc * tc);
            dA[0][k] = dC * _cIn[k] * fk * (T.One - fk);
            dA[1][k] = dC * cb * ik * (T.One - ik);
            dA[2][k] = dC * ik * (T.One - cb * cb);
            dA[3][k] = dH[k] * tc * ok * (T.One - ok);
            dcIn[k] = dC * fk;
        }

        var dx = new T[b * f];
        var dhIn = new T[n];
        for (int g = 0; g < 4; g++)
        {
            var w = _p.Value("W_" + GateNames[g]);
            var gw = _p.Grad("W_" + GateNames[g]);
            MatMulTransAAdd<T>(_x, dA[g], gw.AsSpan(0, f * h), f, b, h);
            MatMulTransAAdd<T>(_hIn, dA[g], gw.AsSpan(f * h), h, b, h);
            SumRowsAdd<T>(dA[g], _p.Grad("B_" + GateNames[g]), b, h);
            MatMulTransBAdd<T>(dA[g], w.AsSpan(0, f * h), dx, b, h, f);
            MatMulTransBAdd<T>(dA[g], w.AsSpan(f * h), dhIn, b, h, h);
        }
        return (dx, dhIn, dcIn);
    }
}
