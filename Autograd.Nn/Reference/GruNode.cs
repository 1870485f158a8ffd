using System.Numerics;
using static Autograd.Nn.Reference.ReferenceMath;

namespace Autograd.Nn.Reference;

/// <summary>
/// Hand-derived reference for one GRU time step (seed.md section 4 with the update-gate fix), on plain
/// arrays, no autodiff.
/// </summary>
/// <remarks>
/// <code>
/// r     = σ(x W_xr + H_in W_hr + B_r)
/// u     = σ(x W_xu + H_in W_hu + B_u)
/// h_bar = tanh(x W_xh + (r * H_in) W_hh + B_h)      reset before the matmul (seed, Cho 2014)
/// h_bar = tanh(x W_xh + B_h + r * (H_in W_hh))      reset after (PyTorch/cuDNN, ONNX linear_before_reset=1)
/// H_out = u * H_in + (1 - u) * h_bar;  X_out = H_out W_v + B_v
/// </code>
/// Backward uses the TOTAL hidden gradient <c>dH = dX_out W_vᵀ + dH_out</c> (the seed's published code
/// uses only <c>dH_out</c>, which zeroes every gate gradient):
/// <c>du = dH (H_in - h_bar)</c>, <c>dh_bar = dH (1 - u)</c>, <c>dA_h = dh_bar (1 - h_bar²)</c>,
/// <c>dA_u = du u (1 - u)</c>, <c>dA_r = dr r (1 - r)</c> with
/// reset-before: <c>d(r H_in) = dA_h W_hhᵀ</c>, <c>dr = d(r H_in) H_in</c>, <c>dW_hh += (r H_in)ᵀ dA_h</c>;
/// reset-after: <c>dr = dA_h (H_in W_hh)</c>, <c>dW_hh += H_inᵀ (dA_h r)</c>;
/// and <c>dH_in = dH u + [r d(r H_in) | (dA_h r) W_hhᵀ] + dA_u W_huᵀ + dA_r W_hrᵀ</c>.
/// </remarks>
public sealed class GruNode<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ReferenceParameters<T> _p;
    private T[]? _x, _hIn, _r, _u, _hBar, _hOut, _rh, _hh;
    private int _batch;

    /// <summary>A step that reads weights from and adds gradients into <paramref name="parameters"/>.</summary>
    /// <param name="parameters">A GRU layer's parameters.</param>
    /// <param name="resetAfter">False: the seed's form <c>(r * H_in) @ W_hh</c>. True: <c>r * (H_in @ W_hh)</c>
    /// (PyTorch/cuDNN; with the seed's single bias <c>B_h</c>, added outside the reset product).</param>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentException">The parameters are not a GRU layer's.</exception>
    public GruNode(ReferenceParameters<T> parameters, bool resetAfter = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Kind != ReferenceCellKind.Gru)
            throw new ArgumentException($"GruNode: parameters are for a {parameters.Kind} layer.", nameof(parameters));
        _p = parameters;
        ResetAfter = resetAfter;
    }

    /// <summary>Whether the reset gate multiplies <c>H_in @ W_hh</c> (true) or <c>H_in</c> (false, the seed's form).</summary>
    public bool ResetAfter { get; }

    /// <summary>Runs the step and keeps what backward needs.</summary>
    /// <param name="x">(B, F) input at this step.</param>
    /// <param name="hIn">(B, H) incoming hidden state.</param>
    /// <returns><c>XOut</c> (B, O) and <c>HOut</c> (B, H).</returns>
    /// <exception cref="ArgumentException">The lengths do not fit (B, F) and (B, H).</exception>
    public (T[] XOut, T[] HOut) Forward(ReadOnlySpan<T> x, ReadOnlySpan<T> hIn)
    {
        int f = _p.InputSize, h = _p.HiddenSize, o = _p.OutputSize;
        int b = BatchOf(x.Length, f, hIn.Length, h, "GruNode.Forward");
        int n = b * h;

        var r = Gate(x, hIn, "W_xr", "W_hr", "B_r", b);
        var u = Gate(x, hIn, "W_xu", "W_hu", "B_u", b);

        var a = new T[n];
        AddRowToEach<T>(a, _p.Value("B_h"), b, h);
        MatMulAdd<T>(x, _p.Value("W_xh"), a, b, f, h);
        T[]? rh = null, hh = null;
        if (ResetAfter)
        {
            hh = new T[n];
            MatMulAdd<T>(hIn, _p.Value("W_hh"), hh, b, h, h);
            for (int i = 0; i < n; i++) a[i] += r[i] * hh[i];
        }
        else
        {
            rh = new T[n];
            for (int i = 0; i < n; i++) rh[i] = r[i] * hIn[i];
            MatMulAdd<T>(rh, _p.Value("W_hh"), a, b, h, h);
        }

        var hBar = new T[n];
        var hOut = new T[n];
        for (int i = 0; i < n; i++)
        {
            hBar[i] = T.Tanh(a[i]);
            hOut[i] = u[i] * hIn[i] + (T.One - u[i]) * hBar[i];
        }

        var xOut = new T[b * o];
        AddRowToEach<T>(xOut, _p.Value("B_v"), b, o);
        MatMulAdd<T>(hOut, _p.Value("W_v"), xOut, b, h, o);

        _x = x.ToArray(); _hIn = hIn.ToArray(); _r = r; _u = u; _hBar = hBar; _hOut = hOut; _rh = rh; _hh = hh; _batch = b;
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
        if (_x is null || _hIn is null || _r is null || _u is null || _hBar is null || _hOut is null)
            throw new InvalidOperationException("GruNode.Backward: Forward has not run.");
        int f = _p.InputSize, h = _p.HiddenSize, o = _p.OutputSize, b = _batch, n = b * h;
        CheckLength(dXOut.Length, b * o, "GruNode.Backward", nameof(dXOut), $"({b}, {o})");
        CheckLength(dHOut.Length, n, "GruNode.Backward", nameof(dHOut), $"({b}, {h})");

        MatMulTransAAdd<T>(_hOut, dXOut, _p.Grad("W_v"), h, b, o);
        SumRowsAdd(dXOut, _p.Grad("B_v"), b, o);

        // Total gradient at H_out: output projection plus the next step.
        var dH = dHOut.ToArray();
        MatMulTransBAdd(dXOut, _p.Value("W_v"), dH, b, o, h);

        var dx = new T[b * f];
        var dhIn = new T[n];
        var dAu = new T[n];
        var dAh = new T[n];
        for (int i = 0; i < n; i++)
        {
            T u = _u[i], hb = _hBar[i];
            dhIn[i] = dH[i] * u;
            dAu[i] = dH[i] * (_hIn[i] - hb) * u * (T.One - u);
            dAh[i] = dH[i] * (T.One - u) * (T.One - hb * hb);
        }

        // Candidate: x W_xh + B_h + reset term.
        MatMulTransAAdd<T>(_x, dAh, _p.Grad("W_xh"), f, b, h);
        SumRowsAdd<T>(dAh, _p.Grad("B_h"), b, h);
        MatMulTransBAdd<T>(dAh, _p.Value("W_xh"), dx, b, h, f);
        var dAr = new T[n];
        if (ResetAfter)
        {
            var hh = _hh!;
            var dHh = new T[n];
            for (int i = 0; i < n; i++)
            {
                dHh[i] = dAh[i] * _r[i];
                dAr[i] = dAh[i] * hh[i];
            }
            MatMulTransAAdd<T>(_hIn, dHh, _p.Grad("W_hh"), h, b, h);
            MatMulTransBAdd<T>(dHh, _p.Value("W_hh"), dhIn, b, h, h);
        }
        else
        {
            MatMulTransAAdd<T>(_rh!, dAh, _p.Grad("W_hh"), h, b, h);
            var dRh = new T[n];
            MatMulTransBAdd<T>(dAh, _p.Value("W_hh"), dRh, b, h, h);
            for (int i = 0; i < n; i++)
            {
                dhIn[i] += dRh[i] * _r[i];
                dAr[i] = dRh[i] * _hIn[i];
            }
        }
        for (int i = 0; i < n; i++) dAr[i] *= _r[i] * (T.One - _r[i]);

        GateBackward(dAu, "W_xu", "W_hu", "B_u", b, dx, dhIn);
        GateBackward(dAr, "W_xr", "W_hr", "B_r", b, dx, dhIn);
        return (dx, dhIn);
    }

    private T[] Gate(ReadOnlySpan<T> x, ReadOnlySpan<T> hIn, string wx, string wh, string bias, int b)
    {
        int f = _p.InputSize, h = _p.HiddenSize;
        var g = new T[b * h];
        AddRowToEach<T>(g, _p.Value(bias), b, h);
        MatMulAdd<T>(x, _p.Value(wx), g, b, f, h);
        MatMulAdd<T>(hIn, _p.Value(wh), g, b, h, h);
        for (int i = 0; i < g.Length; i++) g[i] = Sigmoid(g[i]);
        return g;
    }

    private void GateBackward(T[] dA, string wx, string wh, string bias, int b, T[] dx, T[] dhIn)
    {
        int f = _p.InputSize, h = _p.HiddenSize;
        MatMulTransAAdd<T>(_x!, dA, _p.Grad(wx), f, b, h);
        MatMulTransAAdd<T>(_hIn!, dA, _p.Grad(wh), h, b, h);
        SumRowsAdd<T>(dA, _p.Grad(bias), b, h);
        MatMulTransBAdd<T>(dA, _p.Value(wx), dx, b, h, f);
        MatMulTransBAdd<T>(dA, _p.Value(wh), dhIn, b, h, h);
    }
}
