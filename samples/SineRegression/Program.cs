// Time-series regression, the seed's "other use" (Deep Learning from Scratch, ch. 6): an LSTM reads
// a noisy sine wave and predicts, at every step, the next clean value (many-to-many, mean squared
// error). Each batch is 32 waves of random frequency and phase, 40 steps long.
//
//     dotnet run -c Release -- --steps 300
using Autograd;
using Autograd.Nn;

const int Batch = 32, Time = 40;
int steps = 300;
if (args.Length == 2 && args[0] == "--steps" && int.TryParse(args[1], out int n) && n > 0) steps = n;
else if (args.Length != 0) { Console.Error.WriteLine("usage: SineRegression [--steps N]"); return 2; }

var random = new Random(1);
// Independent waves: every forward pass starts from a zero state (CarryMode.None).
var model = new RnnModel<float>(new LstmLayer<float>(hiddenSize: 32, outputSize: 1,
    new RecurrentOptions { Carry = CarryMode.None, Init = InitScheme.XavierOrthogonal, ForgetGateBias = 1, Seed = 1 }));
var (validationX, validationY) = Waves(random, 128);
model.Build(inputSize: 1);
var optimizer = new Adam<float>(model.Parameters(), 1e-2f);

float firstLoss = Validate();
Console.WriteLine($"step 0: validation MSE {firstLoss:F4}  (predicting the current value: {Persistence(validationX, validationY):F4})");
for (int step = 1; step <= steps; step++)
{
    var (x, y) = Waves(random, Batch);
    var loss = Losses.MeanSquaredError(model.Forward(x), y);   // (batch, time, 1) vs (batch, time, 1)
    optimizer.ZeroGrad();
    loss.Backward();
    GradClip.ClipNorm(model.Parameters(), 1f);
    optimizer.Step();
    if (step % Math.Max(1, steps / 10) == 0 || step == steps)
        Console.WriteLine($"step {step}: training MSE {loss.Item():F4}, validation MSE {Validate():F4}");
}
float lastLoss = Validate();
Console.WriteLine($"validation MSE {firstLoss:F4} -> {lastLoss:F4}");
return float.IsFinite(lastLoss) ? 0 : 1;

float Validate()
{
    using (Tensor.NoGrad()) return Losses.MeanSquaredError(model.Forward(validationX), validationY).Item();
}

// x: (count, Time, 1) noisy sin(ωt + φ); y: (count, Time, 1) the clean value one step later.
static (Tensor<float> X, Tensor<float> Y) Waves(Random random, int count)
{
    var x = new float[count * Time];
    var y = new float[count * Time];
    for (int b = 0; b < count; b++)
    {
        double omega = 0.1 + 0.3 * random.NextDouble(), phase = 2 * Math.PI * random.NextDouble();
        for (int t = 0; t < Time; t++)
        {
            x[b * Time + t] = (float)(Math.Sin(omega * t + phase) + 0.05 * (random.NextDouble() - 0.5));
            y[b * Time + t] = (float)Math.Sin(omega * (t + 1) + phase);
        }
    }
    return (Tensor.FromArray(x, count, Time, 1), Tensor.FromArray(y, count, Time, 1));
}

// The baseline a model must beat: predict that the next value equals the current (noisy) one.
static float Persistence(Tensor<float> x, Tensor<float> y)
    => (float)x.ToArray().Zip(y.ToArray(), (a, b) => (a - b) * (a - b)).Average();
