using Autograd.CharLm;
using Autograd.Distributed;

namespace Autograd.Cli;

// `mpiexec -n N autograd train --distributed ...`: every rank runs this; rank 0 reports and writes.
internal static partial class TrainCommand
{
    /// <summary>The one line a user without MPI sees.</summary>
    internal const string MpiMissing = "--distributed needs MPICH: apt-get install mpich";

    /// <summary>
    /// Called as the process ends with a failure. Under mpiexec, a rank that exits before MPI_Init (say, on
    /// a bad argument given to it alone) leaves the others waiting in MPI_Init forever: hydra does not
    /// notice. So such a rank joins MPI_Init and aborts the job, which ends every rank at once.
    /// </summary>
    internal static void EndJobIfPeersWait(string[] args, int exitCode)
    {
        if (exitCode == 0 || !args.Contains("--distributed") || MpiCommunicator.LauncherRankAndSize() is not { Size: > 1 }) return;
        if (!MpiCommunicator.TryLoadLibrary(out _) || MpiCommunicator.WasInitialized) return;
        MpiCommunicator.InitializeWorld().Abort(exitCode);
    }

    private static int TrainDistributed(TrainSettings s)
    {
        if (!MpiCommunicator.TryLoadLibrary(out _))
        {
            if (MpiCommunicator.LauncherRankAndSize() is { Rank: > 0 }) return ExitCodes.Failure; // rank 0 says it, once
            throw new CliError($"{MpiMissing} ({MpiCommunicator.LibraryName} could not be loaded).");
        }
        var world = MpiCommunicator.InitializeWorld();

        // A setup error (a missing file, a bad option) may hit one rank or all: the lowest failing rank
        // reports it and every rank finalizes, so the user sees one line and mpiexec a non-zero code.
        PreparedRun? run = null;
        Exception? setupError = null;
        try
        {
            run = Prepare(s, world);
        }
        catch (Exception e)
        {
            setupError = e;
        }
        Span<long> firstFailing = [setupError is null ? world.Size : world.Rank];
        world.AllReduce(firstFailing, ReduceOperation.Min);
        if (firstFailing[0] < world.Size)
        {
            int code = world.Rank == firstFailing[0] ? CliApp.Report(setupError!) : ExitCodes.Failure;
            world.Dispose();
            return code;
        }

        TrainingResult result;
        try
        {
            result = RunTrainer(run!, showProgress: world.Rank == 0);
        }
        catch (Exception e) when (e is RankMismatchException or ReplicaDivergenceException or TrainingDivergedException)
        {
            // Found by a collective check: every rank is here, so all finalize and rank 0 reports.
            world.Dispose();
            return world.Rank == 0 ? CliApp.Report(new CliError(e.Message)) : ExitCodes.Failure;
        }
        catch (Exception e)
        {
            // This rank alone failed; the others may be waiting for it in a collective: end the job.
            world.Abort(CliApp.Report(e));
            throw; // not reached: Abort ends the process
        }
        // Nothing after training communicates: finalize now, so that a later failure on rank 0 is an
        // ordinary exit and the other ranks need not wait for its final evaluation and sample.
        world.Dispose();
        return world.Rank == 0 ? Finish(s, run!, result) : ExitCodes.Success;
    }
}
