"""Jobs: multi-step runs that read warehouse tables, call analytics and models, and write the
resulting score tables back (``omnicrm analyze``). Interfaces (CLI, demo, scheduler) call these;
the analytics and models layers stay pure.
"""
