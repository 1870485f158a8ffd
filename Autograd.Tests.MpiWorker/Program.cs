using System.Runtime.InteropServices;
using Autograd.Distributed;
using Autograd.Tests.MpiWorker;

// mpiexec -n 2 dotnet Autograd.Tests.MpiWorker.dll OUTDIR CASE...   (CASE "collectives": OUTDIR/collectives.rankR.txt)
// For each case (EquivalenceCase.All, by name) every rank writes OUTDIR/CASE.rankR.bin (its final weights,
// float64), OUTDIR/CASE.rankR.messages (all-reduce calls per step), or OUTDIR/CASE.rankR.error (a replica check's message).
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Autograd.Tests.MpiWorker OUTDIR CASE...");
    return 2;
}
var world = MpiCommunicator.InitializeWorld();
try
{
    foreach (string name in args[1..])
    {
        if (name == "collectives")
        {
            File.WriteAllText(Path.Combine(args[0], $"collectives.rank{world.Rank}.txt"), CollectiveChecks.Run(world));
            continue;
        }
        var c = EquivalenceCase.All.Single(x => x.Name == name);
        string stem = Path.Combine(args[0], $"{c.Name}.rank{world.Rank}");
        try
        {
            double[] weights = EquivalenceRun.Train(c, world, out int messages);
            File.WriteAllBytes(stem + ".bin", MemoryMarshal.AsBytes(weights.AsSpan()).ToArray());
            File.WriteAllText(stem + ".messages", messages.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        catch (ReplicaDivergenceException e)
        {
            // Thrown on every rank by the same collective check, so the job can go on with the next case.
            File.WriteAllText(stem + ".error", e.Message);
        }
    }
}
catch (Exception e)
{
    Console.Error.WriteLine($"rank {world.Rank}: {e}");
    world.Abort(1);
}
world.Dispose();
return 0;
