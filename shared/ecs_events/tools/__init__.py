"""Operator tools, never needed on Function Compute (``tools/package.py`` leaves this folder out of the code
package): the demo (``demo``, ``demo_state``), the remediation timeline (``timeline``, ``timeline_svg``,
``timeline_html``) and the CloudMonitor event rule (``subscribe``). The CLI imports them when a command needs them."""
