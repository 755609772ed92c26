"""What to show for one email: participants -> matched Oro records -> a host-neutral SidebarView."""
