namespace Autograd.Backends.Cpu;

/// <summary>A unit of work split into numbered parts; part p must not depend on which thread runs it.</summary>
internal interface IParallelWork
{
    void RunPart(int part);
}

/// <summary>
/// Runs a kernel's parts on the calling thread and on dedicated worker threads. A handoff costs well under
/// a microsecond while the workers are awake (Parallel.For costs 8–13 µs and often runs everything on the
/// caller); idle workers spin briefly, then sleep, so an oversubscribed machine is not starved. Work is split
/// by the kernel into parts whose results never depend on the thread count, so outputs are bitwise the same
/// for any number of threads.
/// </summary>
internal static class CpuParallel
{
    private static Worker[] s_workers = [];
    private static int s_busy;

    /// <summary>Threads a kernel may use (the caller included); set through <see cref="Tensor.NumThreads"/>.</summary>
    public static int Threads { get; set; } = DefaultThreads();

    private static int DefaultThreads()
    {
        var env = Environment.GetEnvironmentVariable("AUTOGRAD_NUM_THREADS");
        if (!string.IsNullOrWhiteSpace(env))
        {
            if (int.TryParse(env, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int n) && n >= 1)
                return n;
            throw new InvalidOperationException($"AUTOGRAD_NUM_THREADS: '{env}' is not a positive integer.");
        }
        return Environment.ProcessorCount;
    }

    /// <summary>
    /// Runs parts 0..parts-1, at most <see cref="Threads"/> at a time, and returns when all are done.
    /// Falls back to running every part on the caller when another thread is using the workers.
    /// </summary>
    public static void Run(IParallelWork work, int parts)
    {
        int threads = Math.Min(Threads, parts);
        if (threads <= 1 || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            for (int p = 0; p < parts; p++) work.RunPart(p);
            return;
        }
        try
        {
            var workers = EnsureWorkers(threads - 1);
            var job = Job.Instance;
            job.Start(work, parts);
            for (int w = 0; w < threads - 1; w++) workers[w].Wake(job);
            job.Help();
            job.WaitAll(threads - 1);
            if (job.Error is { } e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }
        finally
        {
            Volatile.Write(ref s_busy, 0);
        }
    }

    private static Worker[] EnsureWorkers(int count)
    {
        var workers = s_workers;
        if (workers.Length >= count) return workers;
        var grown = new Worker[count];
        Array.Copy(workers, grown, workers.Length);
        for (int i = workers.Length; i < count; i++) grown[i] = new Worker(i);
        return s_workers = grown;
    }

    /// <summary>The one job in flight (only one thread at a time holds the workers).</summary>
    private sealed class Job
    {
        public static readonly Job Instance = new();
        private IParallelWork? _work;
        private int _parts, _next, _finishedWorkers;
        public Exception? Error;

        public void Start(IParallelWork work, int parts)
        {
            _work = work;
            _parts = parts;
            _next = 0;
            _finishedWorkers = 0;
            Error = null;
        }

        /// <summary>Claims and runs parts until none is left.</summary>
        public void Help()
        {
            int p;
            while ((p = Interlocked.Increment(ref _next) - 1) < _parts)
            {
                try { _work!.RunPart(p); }
                catch (Exception e) { Interlocked.CompareExchange(ref Error, e, null); }
            }
        }

        public void WorkerDone() => Interlocked.Increment(ref _finishedWorkers);

        public void WaitAll(int workers)
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _finishedWorkers) < workers) spin.SpinOnce(sleep1Threshold: -1);
            _work = null;
        }
    }

    private sealed class Worker
    {
        private readonly SemaphoreSlim _signal = new(0);
        private Job? _job;

        public Worker(int index)
        {
            var thread = new Thread(Loop) { IsBackground = true, Name = $"Autograd CPU worker {index + 1}" };
            thread.Start();
        }

        public void Wake(Job job)
        {
            Volatile.Write(ref _job, job);
            _signal.Release();
        }

        private void Loop()
        {
            while (true)
            {
                // Bounded spin (about 50 µs) before sleeping: back-to-back kernels find the worker awake.
                if (!_signal.Wait(0))
                {
                    var spin = new SpinWait();
                    bool got = false;
                    for (int i = 0; i < 200 && !got; i++)
                    {
                        spin.SpinOnce(sleep1Threshold: -1);
                        got = _signal.Wait(0);
                    }
                    if (!got) _signal.Wait();
                }
                var job = Volatile.Read(ref _job)!;
                job.Help();
                job.WorkerDone();
            }
        }
    }
}
